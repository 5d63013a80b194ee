/**
 * One server stream (`/rl/ws/*`) that stays connected: the token rides as the WebSocket subprotocol
 * `bearer.<token>` (browsers cannot set headers on a WebSocket), and a dropped connection is retried
 * with exponential backoff and jitter (0.5 s doubling to 15 s; back to 0.5 s once a connection held).
 */
import { streamUrl } from './api';

export type StreamName = 'orderbook' | 'actions' | 'training';

export type StreamState = 'connecting' | 'open' | 'retrying' | 'no-token';

export interface StreamStatus {
  readonly state: StreamState;
  /** Failed attempts since the last good connection. */
  readonly failures: number;
  /** When the next attempt starts (ms since the epoch), while retrying. */
  readonly retryAtMs: number | null;
  /** Why the last connection ended, when it did. */
  readonly reason: string | null;
}

export interface StreamOptions<M> {
  readonly name: StreamName;
  readonly token: string | null;
  readonly onMessage: (message: M) => void;
  /** After every (re)connection, e.g. to subscribe. */
  readonly onOpen?: (send: (message: unknown) => void) => void;
  readonly onStatus: (status: StreamStatus) => void;
}

export interface Stream {
  send(message: unknown): void;
  close(): void;
}

const MIN_DELAY_MS = 500;
const MAX_DELAY_MS = 15_000;
/** A connection that held this long resets the backoff. */
const HEALTHY_MS = 5_000;

export function openStream<M>(o: StreamOptions<M>): Stream {
  let socket: WebSocket | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let closed = false;
  let failures = 0;
  let openedAt = 0;
  const status = (state: StreamState, reason: string | null, retryAtMs: number | null = null) => o.onStatus({ state, failures, retryAtMs, reason });

  const connect = () => {
    if (closed) return;
    if (o.token === null) {
      status('no-token', 'no token: open the URL kflow printed (…/#token=…)');
      return;
    }
    status('connecting', null);
    const ws = new WebSocket(streamUrl(`rl/ws/${o.name}`), ['kflow', `bearer.${o.token}`]);
    socket = ws;
    ws.onopen = () => {
      openedAt = performance.now();
      status('open', null);
      o.onOpen?.((m) => ws.send(JSON.stringify(m)));
    };
    ws.onmessage = (event: MessageEvent<string>) => {
      let data: unknown;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      // Queued channels batch: a frame is one message or a JSON array of them, oldest first.
      if (Array.isArray(data)) for (const m of data) o.onMessage(m as M);
      else o.onMessage(data as M);
    };
    ws.onclose = (event) => {
      if (socket !== ws) return;
      socket = null;
      if (closed) return;
      const held = openedAt > 0 && performance.now() - openedAt >= HEALTHY_MS;
      openedAt = 0;
      failures = held ? 1 : failures + 1;
      const base = Math.min(MAX_DELAY_MS, MIN_DELAY_MS * 2 ** (failures - 1));
      const delay = Math.round(base * (0.8 + 0.4 * Math.random()));
      const reason =
        event.code === 4008
          ? 'dropped by the server: this tab fell too far behind'
          : event.code === 1006
            ? 'connection failed (server down, or the token was refused)'
            : `closed (${event.code}${event.reason ? `: ${event.reason}` : ''})`;
      status('retrying', reason, Date.now() + delay);
      timer = setTimeout(connect, delay);
    };
  };
  connect();

  return {
    send(message) {
      if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
    },
    close() {
      closed = true;
      clearTimeout(timer);
      socket?.close();
      socket = null;
    },
  };
}
