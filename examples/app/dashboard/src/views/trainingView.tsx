import { type FormEvent, useMemo, useState } from 'react';
import { apiPost, errorText, getToken, type RetrainDecisionView, type SessionRow, type TrainingJobView } from '../api';
import { TimeChart } from '../components/timeChart';
import { Badge, Empty, EmptyRow, ErrorBanner, Notice, Panel } from '../components/ui';
import { formatDateTime, formatDuration, formatInt, formatNumber, formatPercent } from '../format';
import { store, type TrainingTrace, useLive } from '../liveStore';
import { usePoll } from '../usePoll';

function LossChart({ trace, index, revision }: { readonly trace: TrainingTrace; readonly index: number; readonly revision: number }) {
  const name = trace.lossNames[index]!;
  const data = useMemo(() => {
    const columns = trace.progress.columns();
    return [columns[0], columns[3 + index]!] as [number[], ...(number | null)[][]];
  }, [trace, index, revision]); // eslint-disable-line react-hooks/exhaustive-deps
  return <TimeChart title={name} x="number" data={data} revision={revision} height={110} series={[{ label: name, color: 'accent', format: (v) => v.toPrecision(4) }]} yFormat={(v) => Number(v.toPrecision(2)).toString()} testId={`chart-${name}`} />;
}

function Curves({ trace }: { readonly trace: TrainingTrace }) {
  const p = trace.progress;
  const revision = p.revision;
  const columns = useMemo(() => p.columns(), [p, revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const episodes = useMemo(() => trace.episodes.columns(), [trace.episodes, trace.episodes.revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const sps = useMemo(() => [columns[0], columns[1]!] as [number[], ...(number | null)[][]], [columns]);
  const returns = episodes[0].length > 0 ? episodes : ([columns[0], columns[2]!] as [number[], ...(number | null)[][]]);
  return (
    <>
      <div className="charts-2">
        <TimeChart title="Steps / s" x="number" data={sps} revision={revision} height={160} series={[{ label: 'steps/s', color: 'accent', format: (v) => formatInt(v) }]} yFormat={(v) => formatInt(v)} testId="chart-sps" />
        <TimeChart
          title={episodes[0].length > 0 ? 'Episode return (every episode)' : 'Episode return'}
          x="number"
          data={returns}
          revision={revision + trace.episodes.revision * 7919}
          height={160}
          series={[{ label: 'return', color: 'bid', format: (v) => formatNumber(v, 3) }]}
          yFormat={(v) => formatNumber(v, 1)}
          testId="chart-return"
        />
      </div>
      {trace.lossNames.length === 0 ? (
        <Empty>losses appear with the first update</Empty>
      ) : (
        <div className="charts-3">
          {trace.lossNames.map((name, i) => (
            <LossChart key={name} trace={trace} index={i} revision={revision} />
          ))}
        </div>
      )}
    </>
  );
}

function StartForm({ onStarted }: { readonly onStarted: (job: TrainingJobView) => void }) {
  const sessions = usePoll<{ sessions: readonly SessionRow[] }>('rl/sessions', 10_000);
  const [timesteps, setTimesteps] = useState('50000');
  const [seed, setSeed] = useState('0');
  const [register, setRegister] = useState('');
  const [session, setSession] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const body = {
        timesteps: Number(timesteps),
        seed: Number(seed),
        ...(register.trim() === '' ? {} : { register: register.trim() }),
        ...(session === '' ? {} : { sessions: [session] }),
      };
      onStarted(await apiPost<TrainingJobView>('rl/training/start', body));
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(false);
    }
  };
  const completed = (sessions.data?.sessions ?? []).filter((s) => s.status === 'completed');
  return (
    <form className="form-row" noValidate onSubmit={(e) => void submit(e)} data-testid="training-form">
      <label>
        timesteps
        <input className="input num" type="number" min={2048} value={timesteps} onChange={(e) => setTimesteps(e.target.value)} required />
      </label>
      <label>
        seed
        <input className="input num narrow" type="number" min={0} value={seed} onChange={(e) => setSeed(e.target.value)} required />
      </label>
      <label>
        session
        <select className="input" value={session} onChange={(e) => setSession(e.target.value)}>
          <option value="">newest completed</option>
          {completed.map((s) => (
            <option key={s.id} value={s.id}>
              {s.id} ({s.markets.length} markets, {formatDateTime(s.startedMs)})
            </option>
          ))}
        </select>
      </label>
      <label>
        register as
        <input className="input" placeholder="(optional) model name" value={register} onChange={(e) => setRegister(e.target.value)} spellCheck={false} />
      </label>
      <button type="submit" className="btn primary" disabled={busy || getToken() === null} data-testid="training-start">
        {busy ? 'Starting…' : 'Start training'}
      </button>
      <ErrorBanner error={error} testId="training-error" />
    </form>
  );
}

/** The gate's decisions of `kflow retrain` / `kflow loop`: which candidate was promoted or refused, and why. */
function Decisions() {
  const polled = usePoll<{ decisions: readonly RetrainDecisionView[] }>('rl/retrain/decisions', 5000);
  const decisions = polled.data?.decisions ?? [];
  return (
    <Panel title="Retrain decisions" right={<span className="dim small">promote only when the candidate beats the deployed model, paired t by market</span>}>
      <ErrorBanner error={polled.error} />
      <table className="grid" data-testid="retrain-decisions">
        <thead>
          <tr>
            <th className="l">Decided</th>
            <th className="l">Model</th>
            <th className="l">Decision</th>
            <th className="r">Candidate</th>
            <th className="r">Deployed</th>
            <th className="r">Candidate $ / episode</th>
            <th className="r">Deployed $ / episode</th>
            <th className="r">Paired t</th>
            <th className="r">Episodes</th>
            <th className="l">Trained on → evaluated on</th>
          </tr>
        </thead>
        <tbody>
          {decisions.map((d) => (
            <tr key={d.candidate.id}>
              <td className="l num">{formatDateTime(d.decidedMs)}</td>
              <td className="l mono">{d.name}</td>
              <td className="l">
                <Badge kind={d.promoted ? 'promoted' : 'refused'}>{d.promoted ? 'promoted' : 'refused'}</Badge>
              </td>
              <td className="r num">v{d.candidate.version}</td>
              <td className="r num">{d.deployed === null ? 'none (vs hold)' : `v${d.deployed.version}`}</td>
              <td className="r num">${formatNumber(d.candidatePnl, 4)}</td>
              <td className="r num">${formatNumber(d.deployedPnl, 4)}</td>
              <td className={`r num ${d.promoted ? 'pos' : ''}`} title={`needs > ${d.threshold}`}>
                {formatNumber(d.pairedT, 2)}
              </td>
              <td className="r num" title={`${d.markets} markets (the t-test's clusters)`}>
                {formatInt(d.episodes)}
              </td>
              <td className="l mono small">
                {d.trainSessions.join(', ')} → {d.evalSessions.join(', ')}
              </td>
            </tr>
          ))}
          {decisions.length === 0 ? <EmptyRow colSpan={10}>{polled.loading ? 'Loading…' : 'No retrain decisions yet (kflow retrain, kflow loop).'}</EmptyRow> : null}
        </tbody>
      </table>
    </Panel>
  );
}

/** Training jobs (worker threads of the server): start, stop, and their live curves. */
export function TrainingView() {
  useLive();
  const polled = usePoll<{ jobs: readonly TrainingJobView[] }>('rl/training', 2000);
  const [selected, setSelected] = useState<string | null>(null);
  const [stopError, setStopError] = useState<string | null>(null);

  // The stream's status messages are fresher than the poll.
  const jobs = new Map<string, TrainingJobView>();
  for (const j of polled.data?.jobs ?? []) jobs.set(j.id, j);
  for (const [id, j] of store.trainingJobs) if (!jobs.has(id) || j.state !== 'running') jobs.set(id, j);
  const list = [...jobs.values()].sort((a, b) => b.startedMs - a.startedMs);
  const current = selected ?? list.find((j) => j.state === 'running')?.id ?? list[0]?.id ?? null;
  const trace = current === null ? undefined : store.training.get(current);
  const job = current === null ? undefined : jobs.get(current);
  const evaluation = trace?.evaluation ?? null;

  const stop = async (id: string) => {
    setStopError(null);
    try {
      await apiPost('rl/training/stop', { id });
      polled.refresh();
    } catch (error) {
      setStopError(errorText(error));
    }
  };

  return (
    <div className="view" data-testid="training-view">
      <div className="toolbar">
        <h1>Training</h1>
        <span className="dim small">PPO on recorded sessions: jobs of this server and of the job queue (kflow worker); curves stream over /rl/ws/training.</span>
      </div>
      <Panel title="Start a job">
        <StartForm
          onStarted={(j) => {
            setSelected(j.id);
            polled.refresh();
          }}
        />
      </Panel>
      <ErrorBanner error={polled.error} />
      <ErrorBanner error={stopError} />
      <Panel title="Jobs">
        <table className="grid" data-testid="training-jobs">
          <thead>
            <tr>
              <th className="l">Job</th>
              <th className="l">State</th>
              <th className="l">Sessions</th>
              <th className="r">Seed</th>
              <th className="r">Progress</th>
              <th className="r">Steps/s</th>
              <th className="r">Return</th>
              <th className="l">Started</th>
              <th className="r">Took</th>
              <th className="l">Result</th>
              <th className="r" />
            </tr>
          </thead>
          <tbody>
            {list.map((j) => {
              const latest = store.training.get(j.id)?.latest ?? j.progress;
              const done = latest?.timesteps ?? 0;
              return (
                <tr key={j.id} className={`clickable${current === j.id ? ' selected' : ''}`} onClick={() => setSelected(j.id)}>
                  <td className="l mono">{j.id}</td>
                  <td className="l">
                    <Badge kind={j.state}>{j.state}</Badge>
                  </td>
                  <td className="l mono small">{j.sessions.join(', ')}</td>
                  <td className="r num">{j.seed}</td>
                  <td className="r num">
                    <span className="progress">
                      <i style={{ width: `${Math.min(100, (done / j.timesteps) * 100)}%` }} />
                    </span>{' '}
                    {formatInt(done)} / {formatInt(j.timesteps)}
                  </td>
                  <td className="r num">{formatInt(latest?.sps)}</td>
                  <td className="r num">{formatNumber(latest?.episodeReturn, 3)}</td>
                  <td className="l num">{formatDateTime(j.startedMs)}</td>
                  <td className="r num">{formatDuration((j.endedMs ?? Date.now()) - j.startedMs)}</td>
                  <td className="l small mono" title={j.error ?? JSON.stringify(j.result)}>
                    {j.error !== null ? <span className="neg-text">{j.error}</span> : j.result === null ? '' : Object.entries(j.result).filter(([, v]) => typeof v !== 'object').map(([k, v]) => `${k} ${String(v)}`).slice(0, 3).join(' · ')}
                  </td>
                  <td className="r">
                    {j.state === 'running' && j.source === 'server' ? (
                      <button
                        type="button"
                        className="btn small"
                        disabled={getToken() === null}
                        onClick={(e) => {
                          e.stopPropagation();
                          void stop(j.id);
                        }}
                        data-testid={`training-stop-${j.id}`}
                      >
                        Stop
                      </button>
                    ) : null}
                  </td>
                </tr>
              );
            })}
            {list.length === 0 ? (
              <EmptyRow colSpan={11}>{polled.loading ? 'Loading…' : 'No training jobs since the server started.'}</EmptyRow>
            ) : null}
          </tbody>
        </table>
      </Panel>
      <Decisions />
      <Panel
        title={job === undefined ? 'Curves' : `Curves: ${job.id}`}
        right={
          <span className="dim small">
            {evaluation === null
              ? ''
              : `in-sample evaluation: ${evaluation.episodes} episodes, mean PnL $${formatNumber(evaluation.meanPnl, 4)}, Sharpe ${formatNumber(evaluation.sharpe, 2)}, win rate ${formatPercent(evaluation.winRate)} · `}
            x: timesteps
          </span>
        }
      >
        {trace === undefined ? <Notice>{job === undefined ? 'Start a job to see its curves.' : 'No progress received for this job since the page opened.'}</Notice> : <Curves trace={trace} />}
      </Panel>
    </div>
  );
}
