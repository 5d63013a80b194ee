import { useState } from 'react';
import type { EpisodeActionsResponse, EpisodeRow, SessionRow } from '../api';
import { Badge, EmptyRow, ErrorBanner, Panel } from '../components/ui';
import { formatClock, formatContracts, formatDateTime, formatDuration, formatInt, formatMicros, formatNumber, formatUsd, formatValue, signClass } from '../format';
import { href, navigate } from '../router';
import { usePoll } from '../usePoll';

const PAGE = 100;

function EpisodeActions({ id }: { readonly id: number }) {
  // Cursors of the pages seen so far: the first page starts after step -1.
  const [cursors, setCursors] = useState<number[]>([-1]);
  const after = cursors.at(-1)!;
  const page = usePoll<EpisodeActionsResponse>(`rl/episodes/${id}/actions?after=${after}&limit=${PAGE}`, null);
  const actions = page.data?.actions ?? [];
  const next = page.data?.next ?? null;
  return (
    <Panel
      title={`Episode ${id}: decisions`}
      testId="episode-actions"
      right={
        <span className="pager">
          <span className="dim small num">
            page {cursors.length} · steps {actions[0]?.step ?? '—'}–{actions.at(-1)?.step ?? '—'}
          </span>
          <button type="button" className="btn small" disabled={cursors.length === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
            ← Prev
          </button>
          <button type="button" className="btn small" disabled={next === null} onClick={() => next !== null && setCursors((c) => [...c, next])} data-testid="episode-next">
            Next →
          </button>
          <a className="btn small" href={href('sessions')}>
            Close
          </a>
        </span>
      }
    >
      <ErrorBanner error={page.error} />
      <table className="grid compact">
        <thead>
          <tr>
            <th className="r">Step</th>
            <th className="l">Market</th>
            <th className="r">Mkt step</th>
            <th className="l">Exchange</th>
            <th className="r">Action</th>
            <th className="r">Policy</th>
            <th className="l">Override</th>
            <th className="l">Order</th>
            <th className="l">Reject</th>
            <th className="r">Fills</th>
            <th className="r">Position</th>
            <th className="r">PnL $</th>
            <th className="r">Model</th>
            <th className="r">Latency</th>
          </tr>
        </thead>
        <tbody>
          {actions.map((a) => {
            const position = a.outcome === null ? null : a.outcome.positionCenti / 100;
            const pnl = a.outcome === null ? null : a.outcome.pnlMicros / 1e6;
            return (
              <tr key={a.step}>
                <td className="r num dim">{a.step}</td>
                <td className="l ticker">{a.market}</td>
                <td className="r num dim">{a.marketStep}</td>
                <td className="l num dim">{formatClock(a.tsMs)}</td>
                <td className="r num">{a.action}</td>
                <td className="r num dim">{a.policyAction ?? '—'}</td>
                <td className="l">{a.override ?? ''}</td>
                <td className={`l num ${a.order?.side ?? ''}`}>{a.order === null ? '' : `${a.order.side === 'bid' ? 'buy' : 'sell'} ${formatNumber(a.order.countCenti / 100, 0)} @ ${(a.order.priceUnits / 100).toFixed(1)}`}</td>
                <td className="l dim">{a.reject ?? ''}</td>
                <td className="r num">{a.outcome?.fills.length || ''}</td>
                <td className={`r num ${signClass(position)}`}>{formatContracts(position)}</td>
                <td className={`r num ${signClass(pnl)}`}>{formatUsd(pnl)}</td>
                <td className="r num dim">v{a.model.version}</td>
                <td className="r num dim">{formatMicros(a.latencyMicros)}</td>
              </tr>
            );
          })}
          {actions.length === 0 ? (
            <EmptyRow colSpan={14}>{page.loading ? 'Loading…' : 'No decisions stored for this episode.'}</EmptyRow>
          ) : null}
        </tbody>
      </table>
    </Panel>
  );
}

/** Recorded sessions and paper episodes; an episode opens its stored decisions, page by page. */
export function SessionsView({ episode }: { readonly episode: number | null }) {
  const sessions = usePoll<{ sessions: readonly SessionRow[] }>('rl/sessions', 5000);
  const episodes = usePoll<{ episodes: readonly EpisodeRow[] }>('rl/episodes', 5000);
  return (
    <div className="view" data-testid="sessions-view">
      <div className="toolbar">
        <h1>Sessions</h1>
        <span className="dim small">Recorded market-data sessions (training data) and paper-trading episodes (decision logs).</span>
      </div>
      {episode === null || !Number.isSafeInteger(episode) ? null : <EpisodeActions key={episode} id={episode} />}
      <Panel title="Paper episodes">
        <ErrorBanner error={episodes.error} />
        <table className="grid" data-testid="episodes">
          <thead>
            <tr>
              <th className="r">ID</th>
              <th className="l">Mode</th>
              <th className="l">Session</th>
              <th className="r">Model</th>
              <th className="r">Markets</th>
              <th className="l">Started</th>
              <th className="r">Length</th>
              <th className="r">Steps</th>
              <th className="r">Reward</th>
              <th className="l">Summary</th>
              <th />
            </tr>
          </thead>
          <tbody>
            {(episodes.data?.episodes ?? []).map((e) => (
              <tr key={e.id} className={`clickable${episode === e.id ? ' selected' : ''}`} onClick={() => navigate('sessions', e.id)}>
                <td className="r num">{e.id}</td>
                <td className="l">
                  <Badge kind={e.endedMs === null ? 'running' : 'ready'}>{e.endedMs === null ? `${e.mode} · running` : e.mode}</Badge>
                </td>
                <td className="l mono small">{e.sessionId ?? '—'}</td>
                <td className="r num" title={e.latestModel?.name} data-testid={`episode-model-${e.id}`}>
                  {e.latestModel === null ? (e.modelId ?? '—') : `v${e.latestModel.version}`}
                </td>
                <td className="r num">{formatInt(e.markets?.length ?? 1)}</td>
                <td className="l num">{formatDateTime(e.startedMs)}</td>
                <td className="r num">{formatDuration((e.endedMs ?? Date.now()) - e.startedMs)}</td>
                <td className="r num">{formatInt(e.steps)}</td>
                {/* The total is stored when the episode finishes; the top bar has the running PnL. */}
                <td className={`r num ${e.endedMs === null ? 'dim' : signClass(e.totalReward)}`}>{e.endedMs === null ? '—' : formatNumber(e.totalReward, 4)}</td>
                <td className="l small mono dim">
                  {e.summary === null
                    ? ''
                    : Object.entries(e.summary)
                        .filter(([, v]) => typeof v !== 'object')
                        .slice(0, 4)
                        .map(([k, v]) => `${k} ${formatValue(v)}`)
                        .join(' · ')}
                </td>
                <td className="r">
                  <a href={href('sessions', e.id)} onClick={(ev) => ev.stopPropagation()} data-testid={`episode-${e.id}`}>
                    decisions →
                  </a>
                </td>
              </tr>
            ))}
            {(episodes.data?.episodes.length ?? 0) === 0 ? (
              <EmptyRow colSpan={11}>{episodes.loading ? 'Loading…' : 'No episodes.'}</EmptyRow>
            ) : null}
          </tbody>
        </table>
      </Panel>
      <Panel title="Recorded sessions">
        <ErrorBanner error={sessions.error} />
        <table className="grid" data-testid="sessions">
          <thead>
            <tr>
              <th className="l">Session</th>
              <th className="l">Status</th>
              <th className="l">Source</th>
              <th className="r">Markets</th>
              <th className="l">Started</th>
              <th className="r">Length</th>
              <th className="r">Frames</th>
              <th className="r">Snapshots</th>
              <th className="r">Deltas</th>
              <th className="r">Trades</th>
              <th className="r">Gaps</th>
              <th className="r">Reconnects</th>
            </tr>
          </thead>
          <tbody>
            {(sessions.data?.sessions ?? []).map((s) => (
              <tr key={s.id}>
                <td className="l mono">{s.id}</td>
                <td className="l">
                  <Badge kind={s.status === 'completed' ? 'ready' : s.status === 'recording' ? 'running' : s.status}>{s.status}</Badge>
                </td>
                <td className="l mono small dim" title={s.wsUrl}>
                  {s.environment}
                </td>
                <td className="r num">{formatInt(s.markets.length)}</td>
                <td className="l num">{formatDateTime(s.startedMs)}</td>
                <td className="r num">{formatDuration((s.endedMs ?? Date.now()) - s.startedMs)}</td>
                <td className="r num">{formatInt(s.counts.frames)}</td>
                <td className="r num">{formatInt(s.stored.snapshots)}</td>
                <td className="r num">{formatInt(s.stored.deltas)}</td>
                <td className="r num">{formatInt(s.stored.trades)}</td>
                <td className={`r num${s.counts.gaps > 0 ? ' warn-text' : ''}`}>{formatInt(s.counts.gaps)}</td>
                <td className="r num">{formatInt(s.counts.reconnects)}</td>
              </tr>
            ))}
            {(sessions.data?.sessions.length ?? 0) === 0 ? (
              <EmptyRow colSpan={12}>{sessions.loading ? 'Loading…' : 'No recorded sessions.'}</EmptyRow>
            ) : null}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}
