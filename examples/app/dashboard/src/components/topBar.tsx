import { formatClock, formatDuration, formatInt, formatUsd, signClass } from '../format';
import { store, useLive } from '../liveStore';
import type { StreamName, StreamStatus } from '../stream';
import { setTheme, useTheme } from '../theme';

const STREAM_LABEL: Record<StreamName, string> = { orderbook: 'books', actions: 'actions', training: 'training' };

function streamTitle(name: StreamName, s: StreamStatus): string {
  const base = `/rl/ws/${name}: ${s.state}`;
  if (s.state === 'retrying') return `${base}, attempt ${s.failures + 1} at ${formatClock(s.retryAtMs, false)} (${s.reason ?? ''})`;
  if (s.state === 'no-token') return `${base}: ${s.reason ?? ''}`;
  const received = name === 'orderbook' ? store.received.books : store.received[name];
  return `${base}, ${formatInt(received)} messages since the page opened`;
}

function Connection({ name }: { readonly name: StreamName }) {
  const s = store.streams[name];
  return (
    <span className={`conn conn-${s.state}`} data-testid={`connection-${name}`} data-state={s.state} title={streamTitle(name, s)}>
      <i />
      {STREAM_LABEL[name]}
    </span>
  );
}

/** Streams, running model, actor state and PnL, always in view. */
export function TopBar({ tokenProblem }: { readonly tokenProblem: string | null }) {
  useLive();
  const theme = useTheme();
  const status = store.status.data;
  const metrics = store.metrics.data;
  const actor = status?.actor;
  const model = actor?.model ?? null;
  const lastEvent = store.events.at(0);
  const actorState = actor === undefined ? 'unknown' : actor.halted ? 'halted' : actor.running ? 'running' : 'stopped';
  return (
    <header className="topbar">
      <div className="brand">
        kflow <span className="mode">{status?.mode ?? 'paper'}</span>
      </div>
      <div className="conns" title={tokenProblem ?? undefined}>
        <Connection name="orderbook" />
        <Connection name="actions" />
        <Connection name="training" />
      </div>
      <div className="tb-item" title={model === null ? 'no model loaded' : `model id ${model.id}`}>
        <span className="tb-label">model</span>
        <span className="tb-value">{model?.name ?? '—'}</span>
        <span className="tb-value num strong" data-testid="model-version" data-version={model?.version ?? ''}>
          {model === null ? '' : `v${model.version}`}
        </span>
      </div>
      <div className="tb-item">
        <span className="tb-label">actor</span>
        <span className={`state state-${actorState}`} data-testid="actor-state">
          {actorState}
        </span>
      </div>
      <div className="tb-item">
        <span className="tb-label">markets</span>
        <span className="tb-value num">{formatInt(actor?.markets)}</span>
      </div>
      <div className="tb-item">
        <span className="tb-label">decisions</span>
        <span className="tb-value num">{formatInt(actor?.decisions)}</span>
      </div>
      <div className="tb-item">
        <span className="tb-label">fills</span>
        <span className="tb-value num">{formatInt(metrics?.fills)}</span>
      </div>
      <div className="tb-item">
        <span className="tb-label">PnL $</span>
        <span className={`tb-value num strong ${signClass(metrics?.pnl)}`} data-testid="topbar-pnl">
          {formatUsd(metrics?.pnl)}
        </span>
      </div>
      <div className="tb-spacer" />
      {lastEvent === undefined || lastEvent.message.type !== 'event' ? null : (
        <div className={`tb-event ev-${lastEvent.message.event}`} title={JSON.stringify(lastEvent.message.detail)}>
          {lastEvent.message.event} {formatClock(lastEvent.recvMs, false)}
        </div>
      )}
      {store.status.error === null ? (
        <div className="tb-item dim" title="server uptime">
          up {formatDuration(status?.uptimeMs)}
        </div>
      ) : (
        <div className="tb-item tb-error" role="alert" title={store.status.error}>
          API unreachable
        </div>
      )}
      <button type="button" className="btn ghost" data-testid="theme-toggle" onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')} title="Switch between the dark and the light theme">
        {theme === 'dark' ? '☾ dark' : '☀ light'}
      </button>
    </header>
  );
}
