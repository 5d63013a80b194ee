import { Fragment, useState } from 'react';
import { apiPost, type DeployResponse, errorText, getToken, type ModelDetailResponse, type ModelView } from '../api';
import { Badge, Empty, EmptyRow, ErrorBanner, Notice, Panel } from '../components/ui';
import { formatDateTime, formatDuration, formatInt, formatValue } from '../format';
import { store, useLive } from '../liveStore';
import { usePoll } from '../usePoll';

/** The first few performance figures, `key value` pairs. */
function performance(p: Readonly<Record<string, unknown>>): string {
  return Object.entries(p)
    .filter(([, v]) => typeof v !== 'object' || v === null)
    .slice(0, 4)
    .map(([k, v]) => `${k} ${formatValue(v)}`)
    .join(' · ');
}

function Deployments({ id }: { readonly id: number }) {
  const detail = usePoll<ModelDetailResponse>(`rl/models/${id}`, 5000);
  const d = detail.data;
  return (
    <Panel title={d === null ? `Model ${id}` : `${d.model.name} v${d.model.version}: deployments of ${d.model.name}`} testId="model-detail">
      <ErrorBanner error={detail.error} />
      {d === null ? null : (
        <>
          <dl className="kv">
            <dt>checkpoint</dt>
            <dd className="mono">{d.model.checkpointPath}</dd>
            <dt>architecture</dt>
            <dd className="mono">{d.model.architecture}</dd>
            <dt>feature set</dt>
            <dd className="mono">{d.model.featureSetVersion}</dd>
            <dt>performance</dt>
            <dd className="mono">{Object.keys(d.model.performance).length === 0 ? '—' : JSON.stringify(d.model.performance)}</dd>
          </dl>
          <table className="grid">
            <thead>
              <tr>
                <th className="r">#</th>
                <th className="l">When</th>
                <th className="l">Action</th>
                <th className="r">Version</th>
              </tr>
            </thead>
            <tbody>
              {d.deployments.map((x) => (
                <tr key={x.id}>
                  <td className="r num dim">{x.id}</td>
                  <td className="l num">{formatDateTime(x.deployedMs)}</td>
                  <td className="l">{x.action}</td>
                  <td className="r num">v{x.version}</td>
                </tr>
              ))}
              {d.deployments.length === 0 ? (
                <EmptyRow colSpan={4}>never deployed</EmptyRow>
              ) : null}
            </tbody>
          </table>
        </>
      )}
    </Panel>
  );
}

/** The model registry: versions, status, performance; deploy and roll back; the running model. */
export function ModelsView() {
  useLive();
  const models = usePoll<{ models: readonly ModelView[] }>('rl/models', 3000);
  const [busy, setBusy] = useState<string | null>(null);
  const [result, setResult] = useState<{ kind: 'ok' | 'error'; text: string } | null>(null);
  const [selected, setSelected] = useState<number | null>(null);
  const actor = store.status.data?.actor;
  const running = actor?.model ?? null;
  const canWrite = getToken() !== null;

  const act = async (key: string, path: string, done: (r: DeployResponse) => string) => {
    setBusy(key);
    setResult(null);
    try {
      const r = await apiPost<DeployResponse>(path);
      setResult({ kind: 'ok', text: done(r) });
      models.refresh();
      void store.pollStatus();
    } catch (error) {
      setResult({ kind: 'error', text: errorText(error) });
    } finally {
      setBusy(null);
    }
  };

  const byName = new Map<string, ModelView[]>();
  for (const m of models.data?.models ?? []) {
    let list = byName.get(m.name);
    if (list === undefined) byName.set(m.name, (list = []));
    list.push(m);
  }
  for (const list of byName.values()) list.sort((a, b) => b.version - a.version);

  return (
    <div className="view" data-testid="models-view">
      <div className="toolbar">
        <h1>Models</h1>
        <span className="dim small">Deploy swaps the actor's model at its next tick (hot reload); Roll back returns to the previous deployment.</span>
      </div>
      <Panel title="Running">
        {running === null ? (
          <Empty>{actor?.running ? 'The actor runs without a registry model.' : 'The actor is not running.'}</Empty>
        ) : (
          <div className="running" data-testid="running-model">
            <span className="big mono">
              {running.name} <b>v{running.version}</b>
            </span>
            <span className="dim mono small">{running.id}</span>
            <span className="dim">{formatInt(actor?.decisions)} decisions on {formatInt(actor?.markets)} markets</span>
            {actor?.halted ? <Badge kind="halted">halted (loss limit)</Badge> : null}
          </div>
        )}
        {(actor?.reloads.length ?? 0) + (actor?.refusals.length ?? 0) === 0 ? null : (
          <table className="grid compact">
            <thead>
              <tr>
                <th className="l">Event</th>
                <th className="r">Version</th>
                <th className="r">Load</th>
                <th className="r">Deploy → first decision</th>
                <th className="l">Reason</th>
              </tr>
            </thead>
            <tbody>
              {actor?.reloads.map((r, i) => (
                <tr key={`r${i}`}>
                  <td className="l">reload</td>
                  <td className="r num">v{r.version}</td>
                  <td className="r num">{formatDuration(r.loadMs)}</td>
                  <td className="r num">{formatDuration(r.deployToFirstDecisionMs)}</td>
                  <td />
                </tr>
              ))}
              {actor?.refusals.map((r, i) => (
                <tr key={`f${i}`}>
                  <td className="l neg-text">refused</td>
                  <td className="r num">v{r.version}</td>
                  <td />
                  <td />
                  <td className="l">{r.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </Panel>
      {result === null ? null : (
        <Notice kind={result.kind} testId={result.kind === 'ok' ? 'models-result' : 'models-error'}>
          {result.text}
        </Notice>
      )}
      <ErrorBanner error={models.error} />
      {canWrite ? null : <Notice kind="warn">No token: Deploy and Roll back need the dashboard URL with #token=… that kflow printed.</Notice>}
      <Panel title="Registry">
        <table className="grid" data-testid="models-table">
          <thead>
            <tr>
              <th className="r">ID</th>
              <th className="l">Name</th>
              <th className="r">Ver</th>
              <th className="l">Status</th>
              <th className="l">Architecture</th>
              <th className="l">Features</th>
              <th className="l">Created</th>
              <th className="l">Performance</th>
              <th className="r" />
            </tr>
          </thead>
          <tbody>
            {[...byName].map(([name, list]) => (
              <Fragment key={name}>
                <tr className="group">
                  <td colSpan={8} className="l">
                    <b>{name}</b> <span className="dim">{list.length} versions</span>
                  </td>
                  <td className="r">
                    <button type="button" className="btn small" disabled={busy !== null || !canWrite} data-testid={`rollback-${name}`} onClick={() => void act(`rollback-${name}`, `rl/models/${encodeURIComponent(name)}/rollback`, (r) => `Rolled ${name} back to v${r.deployment.model.version} (deployment #${r.deployment.id}); the actor reloads at its next tick.`)}>
                      {busy === `rollback-${name}` ? '…' : 'Roll back'}
                    </button>
                  </td>
                </tr>
                {list.map((m) => {
                  const isRunning = running !== null && running.name === m.name && running.version === m.version;
                  return (
                    <tr key={m.id} className={`clickable${selected === m.id ? ' selected' : ''}`} onClick={() => setSelected(m.id)} data-testid={`model-row-${m.id}`}>
                      <td className="r num dim">{m.id}</td>
                      <td className="l">{m.name}</td>
                      <td className="r num">v{m.version}</td>
                      <td className="l">
                        <Badge kind={m.status}>{m.status}</Badge> {isRunning ? <Badge kind="running">running</Badge> : null}
                      </td>
                      <td className="l mono small">{m.architecture}</td>
                      <td className="l mono small">{m.featureSetVersion}</td>
                      <td className="l num">{formatDateTime(m.createdMs)}</td>
                      <td className="l mono small dim">{performance(m.performance) || '—'}</td>
                      <td className="r">
                        <button
                          type="button"
                          className="btn small primary"
                          disabled={busy !== null || !canWrite || m.status === 'deployed'}
                          data-testid={`deploy-${m.id}`}
                          onClick={(e) => {
                            e.stopPropagation();
                            void act(`deploy-${m.id}`, `rl/models/${m.id}/deploy`, (r) => `Deployed ${r.deployment.model.name} v${r.deployment.model.version} (deployment #${r.deployment.id}); the actor reloads at its next tick.`);
                          }}
                        >
                          {busy === `deploy-${m.id}` ? '…' : m.status === 'deployed' ? 'Deployed' : 'Deploy'}
                        </button>
                      </td>
                    </tr>
                  );
                })}
              </Fragment>
            ))}
            {byName.size === 0 ? (
              <EmptyRow colSpan={9}>{models.loading ? 'Loading…' : 'No registered models: kflow train --register NAME, or kflow models register DIR --name NAME.'}</EmptyRow>
            ) : null}
          </tbody>
        </table>
      </Panel>
      {selected === null ? null : <Deployments id={selected} />}
    </div>
  );
}
