import {
  SharedOrderbookState,
  safeParseFrame,
  systemClock,
  type ApplyResult,
  type Clock,
  type KalshiFrame,
  type Rng,
} from '@kflow/orderbook';
import type WebSocketType from 'ws';
import type { KalshiSigner } from './auth';
import { ingestError, importOptional } from './errors';
import { holdProcessOpen, systemTimers, type Timers } from './timers';

/** How long frames are handled per event-loop turn before the rest wait for the next turn. */
const TURN_BUDGET_MS = 1;

/**
 * Hands a connection's messages to the handler at most `TURN_BUDGET_MS` per event-loop turn, in order.
 * One socket read holds up to 64 KB of frames and `ws` emits all of them even after `pause()`, so a budget
 * checked only between reads let a turn run a whole read past it. Past the budget, messages wait here
 * (as the bytes `ws` already holds) with their receive times, the socket is paused (TCP flow control
 * holds the rest: the exchange slows down, nothing is dropped), and the next turn continues.
 */
class TurnBudgetReader {
  private turnStartedAt = -1;
  private readonly waiting: Buffer[] = [];
  private readonly waitingRecvMs: number[] = [];
  private next = 0;
  private scheduled = false;
  private finished = false;

  constructor(
    private readonly handle: (raw: string, recvMs: number) => void,
    private readonly pause: () => void,
    private readonly resume: () => void,
  ) {}

  receive(data: Buffer, recvMs: number): void {
    if (this.next === this.waiting.length && this.withinTurn()) {
      this.handle(data.toString('utf8'), recvMs);
      return;
    }
    this.waiting.push(data);
    this.waitingRecvMs.push(recvMs);
    if (!this.scheduled) {
      this.scheduled = true;
      this.pause();
      setImmediate(this.drain);
    }
  }

  /** Handles everything still waiting at once (the connection closed). */
  finish(): void {
    this.finished = true;
    this.handleWaiting(Infinity);
  }

  /** True while this turn's budget lasts; the first call of a turn starts it. */
  private withinTurn(): boolean {
    const now = performance.now();
    if (this.turnStartedAt < 0) {
      this.turnStartedAt = now;
      setImmediate(() => (this.turnStartedAt = -1));
    }
    return now - this.turnStartedAt <= TURN_BUDGET_MS;
  }

  private readonly drain = (): void => {
    this.scheduled = false;
    if (this.finished) return;
    this.turnStartedAt = performance.now();
    this.handleWaiting(this.turnStartedAt + TURN_BUDGET_MS);
    // Messages of the next poll phase start a turn of their own.
    this.turnStartedAt = -1;
    if (this.next < this.waiting.length) {
      this.scheduled = true;
      setImmediate(this.drain);
    } else this.resume();
  };

  private handleWaiting(untilMs: number): void {
    const { waiting, waitingRecvMs } = this;
    while (this.next < waiting.length && (untilMs === Infinity || performance.now() < untilMs)) {
      const i = this.next++;
      const data = waiting[i]!;
      const recvMs = waitingRecvMs[i]!;
      this.handle(data.toString('utf8'), recvMs);
    }
    if (this.next === waiting.length) {
      waiting.length = 0;
      waitingRecvMs.length = 0;
      this.next = 0;
    }
  }
}

/** Kalshi's WebSocket v2 endpoints by environment. */
export const KALSHI_WS_URLS = {
  production: 'wss://external-api-ws.kalshi.com/trade-api/ws/v2',
  demo: 'wss://external-api-ws.demo.kalshi.co/trade-api/ws/v2',
} as const;

/**
 * `url` with any credentials masked (`user:password@` and query values), for events, logs and the
 * session record: a custom URL may carry a token.
 */
function redactUrl(url: string): string {
  const u = new URL(url);
  if (u.username === '' && u.password === '' && u.search === '') return url;
  if (u.username !== '' || u.password !== '') {
    u.username = '***';
    u.password = '';
  }
  for (const key of new Set(u.searchParams.keys())) u.searchParams.set(key, '***'); // a copy: set() edits the list
  return u.toString();
}

/** True for the names of Kalshi's own environments (as opposed to a URL). */
export function isKalshiEnvironment(url: string): url is keyof typeof KALSHI_WS_URLS {
  return url === 'production' || url === 'demo';
}

/** Channels the collector understands. `market_lifecycle_v2` carries every market (no filter). */
export type KalshiChannel = 'orderbook_delta' | 'trade' | 'market_lifecycle_v2';

/** Channels whose market list `update_subscription` can change; others are re-subscribed. */
const UPDATABLE: ReadonlySet<KalshiChannel> = new Set(['orderbook_delta']);
const UNFILTERED: ReadonlySet<KalshiChannel> = new Set(['market_lifecycle_v2']);
const TERMINAL_ERROR_CODES: ReadonlySet<number> = new Set([10, 25]);

/**
 * Why a connection attempt failed, by what helps: `auth` (HTTP 401/403 on the handshake: key or clock),
 * `tls` (the TLS handshake failed: certificate, proxy, or `wss://` to a plain server), `http` (another HTTP
 * status: not a WebSocket endpoint, or a server error), `unreachable` (DNS, refused, no route, no answer)
 * and `closed` (an open connection ended).
 */
export interface ConnectionFailure {
  readonly kind: 'auth' | 'tls' | 'http' | 'unreachable' | 'closed';
  /** What happened and what to check, without credentials. */
  readonly message: string;
  /** The HTTP status of a refused handshake. */
  readonly status?: number;
}

const UNREACHABLE_CODES: ReadonlySet<string> = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ETIMEDOUT', 'ECONNRESET', 'EPIPE']);

/** Classifies a `ws` connection error (or a close without one). */
export function describeConnectionFailure(error: (Error & { code?: string }) | undefined, closeCode: number): ConnectionFailure {
  if (error === undefined) return { kind: 'closed', message: `the connection closed (code ${closeCode})` };
  const status = /Unexpected server response: (\d{3})/.exec(error.message);
  if (status !== null) {
    const code = Number(status[1]);
    if (code === 401 || code === 403) {
      return {
        kind: 'auth',
        status: code,
        message:
          `the server refused the handshake with HTTP ${code}: check the API key id and its private key ` +
          '(KALSHI_API_KEY_ID, KALSHI_PRIVATE_KEY_PATH), that the key belongs to this environment (demo or production), and the system clock',
      };
    }
    return { kind: 'http', status: code, message: `the handshake got HTTP ${code} instead of a WebSocket upgrade${code === 404 ? ' (wrong path?)' : ''}` };
  }
  const code = error.code ?? '';
  if (code.startsWith('ERR_TLS') || code.startsWith('ERR_SSL') || code === 'EPROTO' || /CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(code) || /\bTLS\b/.test(error.message)) {
    return { kind: 'tls', message: `the TLS handshake failed (${code}: ${error.message}); a proxy, a self-signed certificate or wss:// to a plain ws:// server causes this` };
  }
  if (UNREACHABLE_CODES.has(code) || /handshake has timed out/.test(error.message)) {
    return { kind: 'unreachable', message: `cannot reach the server (${code === '' ? error.message : `${code}: ${error.message}`})` };
  }
  return { kind: 'closed', message: error.message };
}

/** Failures that retrying cannot fix: a refused key, a broken TLS setup, a client error status. */
function isPermanent(f: ConnectionFailure): boolean {
  return f.kind === 'auth' || f.kind === 'tls' || (f.kind === 'http' && f.status !== undefined && f.status < 500);
}

/** What the client tells its owner; never carries credentials or headers. */
export type KalshiClientEvent =
  | { readonly type: 'connecting'; readonly conn: number; readonly url: string }
  | { readonly type: 'connected'; readonly conn: number }
  | { readonly type: 'disconnected'; readonly conn: number; readonly reason: string; readonly failure: ConnectionFailure }
  | { readonly type: 'reconnect-scheduled'; readonly attempt: number; readonly delayMs: number }
  | { readonly type: 'gap'; readonly sid: number; readonly markets: readonly string[] }
  | { readonly type: 'resubscribe'; readonly channel: KalshiChannel; readonly code: number | undefined }
  | { readonly type: 'server-error'; readonly code: number; readonly message: string }
  | { readonly type: 'sink-error'; readonly message: string };

/** Where a frame came from: its receive time and index in this client's life, and its connection. */
export interface FrameContext {
  /** The text exactly as received. */
  readonly raw: string;
  readonly recvMs: number;
  /** 1-based index of the frame among every frame this client received (acks and malformed included). */
  readonly frameNo: number;
  /** 1-based connection number (sids restart with every connection). */
  readonly conn: number;
}

/** Receives every parsed frame after the books were updated. Must not block or await. */
export type FrameSink = (frame: KalshiFrame, result: ApplyResult, ctx: FrameContext) => void;

/** Running counters of a {@link KalshiClient}. */
export interface KalshiClientStats {
  frames: number;
  malformed: number;
  gaps: number;
  snapshotRequests: number;
  resubscribes: number;
  /** Exceptions thrown by sinks (caught; the frame still reached the other sinks). */
  sinkErrors: number;
  /** Connections opened after the first. */
  reconnects: number;
  connected: boolean;
}

/** Options of {@link KalshiClient}. */
export interface KalshiClientOptions {
  /** `'production'`, `'demo'`, or any `ws://` / `wss://` URL (tests, the simulator). */
  readonly url: 'production' | 'demo' | (string & {});
  /** Signs every handshake; required by Kalshi, optional for local servers that do not check. */
  readonly signer?: KalshiSigner;
  readonly markets: readonly string[];
  /** Default: orderbook_delta, trade, market_lifecycle_v2. */
  readonly channels?: readonly KalshiChannel[];
  /** The books this client writes (default: a new one). */
  readonly state?: SharedOrderbookState;
  readonly clock?: Clock;
  /** Jitter for reconnect backoff. */
  readonly rng: Rng;
  readonly timers?: Timers;
  /** Client ping period; also how often the read watchdog checks. Default 10 s. */
  readonly pingIntervalMs?: number;
  /** Reconnect when nothing (frame, ping or pong) arrived for this long. Default 30 s. */
  readonly readTimeoutMs?: number;
  /** Reconnect backoff: `min(max, initial · 2^attempt)`, scaled by a jitter in [0.5, 1). Defaults 250 ms, 30 s. */
  readonly initialBackoffMs?: number;
  readonly maxBackoffMs?: number;
  /** How long `start()` keeps trying to connect and subscribe before it gives up. Default 15 s. */
  readonly connectTimeoutMs?: number;
  /** A handshake (TCP, TLS, HTTP upgrade) that takes longer fails. Default 10 s. */
  readonly handshakeTimeoutMs?: number;
  /** Receives connection, gap, resubscribe and error events (never credentials). */
  readonly onEvent?: (event: KalshiClientEvent) => void;
}

interface ChannelState {
  sid: number | undefined;
  /** Markets the server has for this subscription (as far as acknowledged or sent). */
  markets: Set<string>;
  /** Command id of an unanswered subscribe. */
  pendingId: number | undefined;
}

/**
 * A Kalshi WebSocket v2 client for market data: one authenticated connection for many markets,
 * sequence-checked books in a `SharedOrderbookState`, and recovery that never gives up.
 *
 * - Gap on a sid → its books are stale, `get_snapshot` is sent for them; error 10 or 25 → resubscribe.
 * - Ping every `pingIntervalMs`; a read watchdog reconnects a silent socket.
 * - `start()` resolves once connected and subscribed, and rejects with a typed error when that cannot
 *   happen: `AUTH_REFUSED` (HTTP 401/403), `TLS_FAILED`, `CONNECT_FAILED` (another HTTP status, or
 *   unreachable for `connectTimeoutMs`), `SUBSCRIPTION_FAILED` (the server answered a subscribe with an error).
 * - Once started it reconnects forever with jittered, capped exponential backoff, re-signing the
 *   handshake, resetting sequence trackers and resubscribing the current market set; every failure is
 *   reported (`disconnected` with its classified `failure`, `server-error`).
 * - `handleMessage` (the socket handler) only parses, updates the books, calls sinks and sends the odd
 *   command; it never awaits.
 *
 * @example
 * const client = new KalshiClient({ url: 'demo', signer, markets: ['KXFED-26DEC-T4.00'], rng: createRng(1) });
 * client.addSink((frame, result, ctx) => queue.enqueue...(...));
 * await client.start(); ... await client.stop();
 */
export class KalshiClient {
  /** The server URL with credentials masked (see `connect` for the real one). */
  readonly url: string;
  readonly state: SharedOrderbookState;
  readonly stats: KalshiClientStats = {
    frames: 0,
    malformed: 0,
    gaps: 0,
    snapshotRequests: 0,
    resubscribes: 0,
    sinkErrors: 0,
    reconnects: 0,
    connected: false,
  };

  private readonly options: KalshiClientOptions;
  private readonly connectUrl: string;
  private readonly clock: Clock;
  private readonly timers: Timers;
  private readonly desired: Set<string>;
  private readonly channels = new Map<KalshiChannel, ChannelState>();
  private readonly sinks: FrameSink[] = [];
  private WebSocketCtor: typeof WebSocketType | undefined;
  private ws: WebSocketType | undefined;
  private conn = 0;
  private nextId = 1;
  private attempt = 0;
  private stopped = true;
  private lastReadMs = 0;
  private pingHandle: unknown;
  private reconnectHandle: unknown;
  private closedWaiters: (() => void)[] = [];
  /** Settles `start()`: pending until connected and subscribed, or a failure that ends the attempt. */
  private starting: { resolve: () => void; reject: (error: Error) => void; timer: unknown; last: string } | undefined;

  constructor(options: KalshiClientOptions) {
    this.options = options;
    this.connectUrl = isKalshiEnvironment(options.url) ? KALSHI_WS_URLS[options.url] : options.url;
    if (!URL.canParse(this.connectUrl) || !/^wss?:\/\//.test(this.connectUrl)) {
      throw ingestError('INVALID_OPTIONS', `not a WebSocket URL: ${URL.canParse(this.connectUrl) ? redactUrl(this.connectUrl) : 'unparsable'}`);
    }
    this.url = redactUrl(this.connectUrl);
    this.state = options.state ?? new SharedOrderbookState();
    this.clock = options.clock ?? systemClock;
    this.timers = options.timers ?? systemTimers;
    this.desired = new Set(options.markets);
    for (const channel of options.channels ?? ['orderbook_delta', 'trade', 'market_lifecycle_v2']) {
      this.channels.set(channel, { sid: undefined, markets: new Set(), pendingId: undefined });
    }
  }

  /** Markets currently wanted (subscriptions follow this set across reconnects). */
  get markets(): readonly string[] {
    return [...this.desired];
  }

  /** Registers a frame sink (the collector's recorder and write queue). */
  addSink(sink: FrameSink): void {
    this.sinks.push(sink);
  }

  /**
   * Opens the connection (loading `ws` on first use), resolves once it is subscribed, and keeps it open
   * until `stop()`. Rejects (and stops) when the first connection cannot be made: see the class notes.
   */
  async start(): Promise<void> {
    if (!this.stopped) return;
    const ws = await importOptional('ws', () => import('ws'));
    this.WebSocketCtor = ws.WebSocket ?? ws.default;
    this.stopped = false;
    const timeoutMs = this.options.connectTimeoutMs ?? 15_000;
    const ready = new Promise<void>((resolve, reject) => {
      const timer = this.timers.setTimeout(() => {
        this.failStart('CONNECT_FAILED', `could not connect to ${this.url} and subscribe within ${timeoutMs} ms: ${this.starting?.last ?? 'no answer'}`);
      }, timeoutMs);
      this.starting = { resolve, reject, timer, last: 'no answer yet' };
    });
    // Between attempts only unref'd timers are pending: without this, Node would exit mid-start.
    const release = holdProcessOpen();
    this.connect();
    try {
      await ready;
    } catch (error) {
      await this.stop();
      throw error;
    } finally {
      release();
    }
  }

  private failStart(code: 'AUTH_REFUSED' | 'TLS_FAILED' | 'CONNECT_FAILED' | 'SUBSCRIPTION_FAILED', message: string): void {
    const s = this.starting;
    if (s === undefined) return;
    this.starting = undefined;
    this.timers.clearTimeout(s.timer);
    s.reject(ingestError(code, message, { details: { url: this.url } }));
  }

  /** Resolves `start()` once every channel that has something to subscribe is subscribed. */
  private settleStartIfReady(): void {
    const s = this.starting;
    if (s === undefined || !this.stats.connected) return;
    for (const [channel, c] of this.channels) {
      if (c.sid === undefined && (UNFILTERED.has(channel) || this.desired.size > 0)) return;
    }
    this.starting = undefined;
    this.timers.clearTimeout(s.timer);
    s.resolve();
  }

  /** Closes the connection and stops reconnecting. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.failStart('CONNECT_FAILED', `stopped before ${this.url} was connected and subscribed`);
    this.timers.clearTimeout(this.reconnectHandle);
    this.timers.clearTimeout(this.pingHandle);
    const ws = this.ws;
    if (ws === undefined || ws.readyState === ws.CLOSED) return;
    const closed = new Promise<void>((resolve) => this.closedWaiters.push(resolve));
    ws.close(1000, 'client stop');
    // A peer that never completes the closing handshake is cut after a second.
    const kill = this.timers.setTimeout(() => ws.terminate(), 1000);
    await closed;
    this.timers.clearTimeout(kill);
  }

  /** Adds markets to every filtered channel (`update_subscription add_markets` where supported). */
  addMarkets(tickers: readonly string[]): void {
    for (const t of tickers) this.desired.add(t);
    this.reconcile();
  }

  /** Removes markets (`delete_markets` where supported); their books stay as last seen. */
  removeMarkets(tickers: readonly string[]): void {
    for (const t of tickers) this.desired.delete(t);
    this.reconcile();
  }

  /** Asks for fresh snapshots of `tickers` (their books are stale until they arrive). */
  requestSnapshots(tickers: readonly string[]): void {
    const ob = this.channels.get('orderbook_delta');
    if (ob?.sid === undefined || tickers.length === 0) return;
    this.stats.snapshotRequests++;
    this.send('update_subscription', { sids: [ob.sid], market_tickers: [...tickers], action: 'get_snapshot' });
  }

  /**
   * The socket's message handler, public so captures can be replayed and benchmarked through exactly
   * the live path. Parses, updates the books, reacts to gaps and terminal errors, calls the sinks.
   */
  handleMessage(raw: string, recvMs: number): void {
    const stats = this.stats;
    stats.frames++;
    const ctx: FrameContext = { raw, recvMs, frameNo: stats.frames, conn: this.conn };
    const parsed = safeParseFrame(raw);
    if (!parsed.ok) {
      stats.malformed++;
      return;
    }
    const frame = parsed.frame;
    const result = this.state.applyFrame(frame, recvMs);
    if (result.gap && frame.sid !== undefined) this.onGap(frame.sid);
    if (frame.type === 'subscribed') this.onSubscribed(frame.id, frame.sid, frame.channel);
    else if (frame.type === 'error') this.onServerError(frame.id, frame.sid, frame.code, frame.message, frame.marketTickers ?? (frame.marketTicker === undefined ? undefined : [frame.marketTicker]));
    const sinks = this.sinks;
    for (let i = 0; i < sinks.length; i++) {
      try {
        sinks[i]!(frame, result, ctx);
      } catch (error) {
        // A failing sink must not take the socket down (or the other sinks with it).
        stats.sinkErrors++;
        this.emit({ type: 'sink-error', message: error instanceof Error ? error.message : String(error) });
      }
    }
  }

  private connect(): void {
    const Ctor = this.WebSocketCtor!;
    this.conn++;
    if (this.conn > 1) this.stats.reconnects++;
    const conn = this.conn;
    this.emit({ type: 'connecting', conn, url: this.url });
    // Re-signed on every connect: the timestamp must be fresh.
    const headers = this.options.signer?.headers(this.clock.now()) ?? {};
    const ws = new Ctor(this.connectUrl, { headers, perMessageDeflate: false, handshakeTimeout: this.options.handshakeTimeoutMs ?? 10_000 });
    this.ws = ws;
    const reader = new TurnBudgetReader(
      (raw, recvMs) => this.handleMessage(raw, recvMs),
      () => ws.pause(),
      () => ws.resume(),
    );
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data: Buffer) => {
      this.lastReadMs = this.clock.now();
      if (this.attempt > 0) this.attempt = 0; // the server talks to us: the backlog starts over
      reader.receive(data, this.lastReadMs);
    });
    ws.on('ping', () => {
      this.lastReadMs = this.clock.now();
    });
    ws.on('pong', () => {
      this.lastReadMs = this.clock.now();
    });
    // Errors are followed by 'close'; the error (e.g. "Unexpected server response: 401") is reported there.
    let lastError: Error | undefined;
    ws.on('error', (error: Error) => {
      lastError = error;
    });
    ws.on('close', (code: number) => {
      // Frames already read belong to this connection: handled before anything of the next one.
      reader.finish();
      if (this.ws === ws) this.ws = undefined;
      this.stats.connected = false;
      this.timers.clearTimeout(this.pingHandle);
      const failure = describeConnectionFailure(lastError, code);
      this.emit({ type: 'disconnected', conn, reason: failure.message, failure });
      for (const w of this.closedWaiters.splice(0)) w();
      if (this.starting !== undefined) {
        // Before the first subscription: a refused key or a broken TLS setup will not heal by retrying.
        if (isPermanent(failure)) {
          this.failStart(failure.kind === 'auth' ? 'AUTH_REFUSED' : failure.kind === 'tls' ? 'TLS_FAILED' : 'CONNECT_FAILED', `${this.url}: ${failure.message}`);
          return;
        }
        this.starting.last = failure.message;
      }
      if (!this.stopped) this.scheduleReconnect();
    });
  }

  private onOpen(ws: WebSocketType): void {
    this.stats.connected = true;
    this.lastReadMs = this.clock.now();
    this.emit({ type: 'connected', conn: this.conn });
    // A new connection: sids may be renumbered and every book must be re-snapshotted.
    this.state.resetSequences();
    for (const [channel, c] of this.channels) {
      c.sid = undefined;
      c.markets.clear();
      c.pendingId = undefined;
      this.subscribe(channel);
    }
    this.schedulePing(ws);
    this.settleStartIfReady();
  }

  private schedulePing(ws: WebSocketType): void {
    const interval = this.options.pingIntervalMs ?? 10_000;
    this.pingHandle = this.timers.setTimeout(() => {
      if (this.ws !== ws) return;
      if (this.clock.now() - this.lastReadMs > (this.options.readTimeoutMs ?? 30_000)) {
        ws.terminate(); // 'close' follows and schedules the reconnect
        return;
      }
      ws.ping();
      this.schedulePing(ws);
    }, interval);
  }

  private scheduleReconnect(): void {
    const initial = this.options.initialBackoffMs ?? 250;
    const max = this.options.maxBackoffMs ?? 30_000;
    const base = Math.min(max, initial * 2 ** Math.min(this.attempt, 30));
    const delayMs = Math.round(base * (0.5 + 0.5 * this.options.rng.next()));
    this.attempt++;
    this.emit({ type: 'reconnect-scheduled', attempt: this.attempt, delayMs });
    this.reconnectHandle = this.timers.setTimeout(() => {
      if (!this.stopped) this.connect();
    }, delayMs);
  }

  private subscribe(channel: KalshiChannel): void {
    const c = this.channels.get(channel)!;
    const params: Record<string, unknown> = { channels: [channel] };
    if (!UNFILTERED.has(channel)) {
      if (this.desired.size === 0) return;
      params.market_tickers = [...this.desired];
      c.markets = new Set(this.desired);
    }
    c.pendingId = this.send('subscribe', params);
  }

  private onSubscribed(id: number | undefined, sid: number, channel: string): void {
    const c = this.channels.get(channel as KalshiChannel);
    if (c === undefined) return;
    if (c.pendingId !== undefined && id !== undefined && id !== c.pendingId) return;
    c.sid = sid;
    c.pendingId = undefined;
    this.reconcile();
    this.settleStartIfReady();
  }

  private onGap(sid: number): void {
    this.stats.gaps++;
    const markets = this.state.markets().filter((t) => this.state.sidOfMarket(t) === sid);
    this.emit({ type: 'gap', sid, markets });
    this.requestSnapshots(markets);
  }

  private onServerError(id: number | undefined, sid: number | undefined, code: number, message: string, tickers: readonly string[] | undefined): void {
    this.emit({ type: 'server-error', code, message });
    const failedSubscribe = id === undefined ? undefined : [...this.channels].find(([, c]) => c.pendingId === id);
    if (failedSubscribe) failedSubscribe[1].pendingId = undefined;
    if (failedSubscribe !== undefined && this.starting !== undefined) {
      const markets = tickers === undefined || tickers.length === 0 ? '' : ` (markets: ${tickers.join(', ')})`;
      this.failStart('SUBSCRIPTION_FAILED', `subscribing to ${failedSubscribe[0]} failed: server error ${code} "${message}"${markets}; check the tickers (--markets) and that the key may read this channel`);
      return;
    }
    if (!TERMINAL_ERROR_CODES.has(code)) return;
    // The subscription is dead: find it by sid, else by the command that failed, else renew them all.
    // An unknown sid is a subscription already replaced: nothing to renew.
    const affected =
      sid !== undefined
        ? [...this.channels].filter(([, c]) => c.sid === sid)
        : failedSubscribe !== undefined
          ? [failedSubscribe]
          : [...this.channels];
    for (const [channel, c] of affected) {
      this.stats.resubscribes++;
      this.emit({ type: 'resubscribe', channel, code });
      c.sid = undefined;
      this.subscribe(channel);
    }
  }

  /** Brings each filtered channel's server-side market list in line with the desired set. */
  private reconcile(): void {
    for (const [channel, c] of this.channels) {
      if (UNFILTERED.has(channel) || c.pendingId !== undefined) continue;
      if (c.sid === undefined) {
        if (this.ws !== undefined && this.stats.connected && this.desired.size > 0) this.subscribe(channel);
        continue;
      }
      const add = [...this.desired].filter((t) => !c.markets.has(t));
      const remove = [...c.markets].filter((t) => !this.desired.has(t));
      if (add.length === 0 && remove.length === 0) continue;
      if (UPDATABLE.has(channel)) {
        if (add.length > 0) this.send('update_subscription', { sids: [c.sid], market_tickers: add, action: 'add_markets' });
        if (remove.length > 0) this.send('update_subscription', { sids: [c.sid], market_tickers: remove, action: 'delete_markets' });
        c.markets = new Set(this.desired);
      } else {
        this.send('unsubscribe', { sids: [c.sid] });
        c.sid = undefined;
        this.subscribe(channel);
      }
    }
  }

  private send(cmd: string, params: Record<string, unknown>): number | undefined {
    const ws = this.ws;
    if (ws === undefined || ws.readyState !== ws.OPEN) return undefined;
    const id = this.nextId++;
    ws.send(JSON.stringify({ id, cmd, params }));
    return id;
  }

  private emit(event: KalshiClientEvent): void {
    this.options.onEvent?.(event);
  }
}
