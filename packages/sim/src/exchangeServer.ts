import { type IncomingMessage, type Server, createServer } from 'node:http';
import { type KeyObject, generateKeyPairSync } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { type Clock, KflowError, OrderBook, systemClock } from '@kflow/orderbook';
import { WebSocket, WebSocketServer } from 'ws';
import { KALSHI_WS_PATH, verifyKalshiRequest } from './auth';
import type { SimConfig } from './config';
import type { SimErrorCode } from './errors';
import { type SimChannel, type TickerStats, deltaFrame, lifecycleFrame, snapshotFrame, subscribedFrame, tickerFrame, tradeFrame } from './frames';
import { type SimEvent, type SimMarket, createSimulator } from './simulator';

/** How fast virtual time runs: 1 = real time, N = N× faster, 'max' = as fast as the clients read. */
export type SpeedFactor = number | 'max';

/** Options of {@link createExchangeServer}. */
export interface ExchangeServerOptions {
  /** The simulated session the server plays (see `resolveSimConfig`). */
  readonly config: SimConfig;
  /** Loopback by default. */
  readonly host?: string;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  /** Require Kalshi RSA-PSS handshake headers signed by this key; without it any client may connect. */
  readonly auth?: { readonly publicKey: string | KeyObject; readonly keyId?: string; readonly maxSkewMs?: number };
  /** Default 1 (real time). */
  readonly speed?: SpeedFactor;
  /** WebSocket ping interval (payload "heartbeat", as Kalshi), ms; 0 disables. Default 10,000. */
  readonly heartbeatMs?: number;
  /**
   * 'on-subscribe' (default): the session starts `startDelayMs` after the first subscribe command (so a client
   * can finish subscribing to all its channels first); 'manual': call `start()`.
   */
  readonly start?: 'on-subscribe' | 'manual';
  /** Grace period between the first subscribe and the session start in 'on-subscribe' mode. Default 100 ms. */
  readonly startDelayMs?: number;
  /** Wall clock for pacing and the signature freshness check (default: the system clock). */
  readonly clock?: Clock;
  /** In 'max' speed, generation pauses while any client has more than this many bytes unsent. Default 1 MiB. */
  readonly highWaterMarkBytes?: number;
  /** A client with more unsent bytes than this gets error 25 on its subscriptions (slow consumer). Default 64 MiB. */
  readonly maxBufferedBytes?: number;
}

/** Runtime fault switches. Each returns how many subscriptions (or connections) it hit. */
export interface ExchangeFaults {
  /** The next sequenced frame of each matching subscription skips one seq number. */
  sequenceGap(options?: { readonly sid?: number }): number;
  /** Error 25 (subscription buffer overflow) on each matching orderbook_delta subscription, which then ends. */
  bufferOverflow(options?: { readonly sid?: number }): number;
  /** Terminates every client socket (no close frame). */
  disconnect(): number;
  /**
   * Sends one malformed frame to every client: 'json' is truncated JSON (no seq consumed); 'fields' is an
   * orderbook_delta with invalid price/size fields on each orderbook subscription (it consumes a seq).
   */
  malformedFrame(kind?: 'json' | 'fields'): number;
}

/** How a served session ended. */
export interface ExchangeSessionResult {
  /** False when the server was closed before the session ended. */
  readonly completed: boolean;
  readonly events: number;
  readonly startMs: number;
  readonly endMs: number;
  readonly results: Readonly<Record<string, 'yes' | 'no'>>;
}

/** A running Kalshi-protocol exchange on loopback (see {@link createExchangeServer}). */
export interface ExchangeServer {
  /** `ws://host:port/trade-api/ws/v2` */
  readonly url: string;
  readonly port: number;
  readonly markets: readonly SimMarket[];
  readonly faults: ExchangeFaults;
  /** Resolves when every market has settled (or the server closed first). */
  readonly finished: Promise<ExchangeSessionResult>;
  /** Open client connections. */
  readonly connections: number;
  /**
   * Market-data frames written to open client sockets so far: per market by kind, and their total.
   * Acks, errors, heartbeats and injected malformed frames are not counted. A frame counts once written,
   * so frames still in flight when a client dies count as sent (a loss the client never saw).
   */
  readonly sent: {
    readonly total: number;
    readonly markets: Readonly<Record<string, { readonly snapshot: number; readonly delta: number; readonly trade: number; readonly lifecycle: number; readonly ticker: number }>>;
  };
  /** Events published so far and the exchange time reached (for progress reporting). */
  readonly progress: { readonly events: number; readonly tsMs: number; readonly fraction: number };
  /** Starts the session (no-op once started). */
  start(): void;
  /** Stops the session, closes every client connection and the listening socket. */
  close(): Promise<void>;
}

interface Subscription {
  readonly sid: number;
  readonly channel: SimChannel;
  /** null = all markets. */
  tickers: string[] | null;
  seq: number;
  skipNext: boolean;
}

interface Connection {
  readonly ws: WebSocket;
  readonly subs: Map<number, Subscription>;
  nextSid: number;
}

/** The kinds of market-data frame counted in `sent`. */
type SentKind = 'snapshot' | 'delta' | 'trade' | 'lifecycle' | 'ticker';

const CHANNELS: readonly SimChannel[] = ['orderbook_delta', 'trade', 'market_lifecycle_v2', 'ticker'];
const ERROR_TEXT: Record<number, string> = {
  1: 'Unable to process message',
  2: 'Params required',
  3: 'Channels required',
  4: 'Subscription IDs required',
  5: 'Unknown command',
  7: 'Unknown subscription ID',
  8: 'Unknown channel name',
  11: 'Invalid parameter',
  12: 'Exactly one subscription ID is required',
  13: 'Unsupported action',
  14: 'Market Ticker required',
  15: 'Action required',
  25: 'Subscription buffer overflow',
};
const MAX_BATCH = 4096;

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * A Kalshi WebSocket v2 exchange on loopback, driven by the simulator: RSA-PSS handshake auth (HTTP 401),
 * subscribe / unsubscribe / update_subscription / list_subscriptions, sid+seq on every sequenced frame
 * (acks included), Kalshi error codes, ping heartbeat, a speed factor and fault injection. Also answers
 * `GET /trade-api/v2/markets` with the simulated markets.
 *
 * @example
 * const server = await createExchangeServer({ config: resolveSimConfig('informed', { seed: 1 }), speed: 'max' });
 * // connect a collector to server.url, subscribe to server.markets' tickers ...
 * const { results } = await server.finished;
 * await server.close();
 */
export async function createExchangeServer(options: ExchangeServerOptions): Promise<ExchangeServer> {
  const { config } = options;
  const clock = options.clock ?? systemClock;
  const speed = options.speed ?? 1;
  if (speed !== 'max' && !(typeof speed === 'number' && speed > 0 && Number.isFinite(speed))) {
    throw new KflowError<SimErrorCode>('INVALID_CONFIG', `speed must be a positive number or 'max', got ${String(speed)}`);
  }
  const highWater = options.highWaterMarkBytes ?? 1 << 20;
  const maxBuffered = options.maxBufferedBytes ?? 64 << 20;
  const sim = createSimulator(config);
  const marketIds = new Map(sim.markets.map((m) => [m.ticker, m.marketId]));
  // Published books: the state after the frames already sent (the simulator itself may run ahead).
  const books = new Map<string, OrderBook>();
  const stats = new Map<string, TickerStats>();
  for (const m of sim.markets) {
    const book = new OrderBook(m.ticker);
    const live = sim.book(m.ticker)!;
    book.applySnapshot(live.levels('yes'), live.levels('no'));
    books.set(m.ticker, book);
    stats.set(m.ticker, { lastPriceUnits: -1, lastSizeCenti: 0, volumeCenti: 0, volumeMicros: 0 });
  }
  const sent = new Map<string, Record<SentKind, number>>(
    sim.markets.map((m) => [m.ticker, { snapshot: 0, delta: 0, trade: 0, lifecycle: 0, ticker: 0 }]),
  );
  let sentTotal = 0;
  const connections = new Set<Connection>();
  let started = false;
  let closed = false;
  let events = 0;
  let lastTsMs = config.startMs;
  let timer: NodeJS.Timeout | undefined;
  let startTimer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  let startWall = 0;
  let resolveFinished!: (r: ExchangeSessionResult) => void;
  const finished = new Promise<ExchangeSessionResult>((resolve) => {
    resolveFinished = resolve;
  });
  const result = (completed: boolean): ExchangeSessionResult => ({
    completed,
    events,
    startMs: config.startMs,
    endMs: config.startMs + Math.floor(config.durationMs),
    results: Object.fromEntries(sim.results),
  });

  const send = (c: Connection, text: string): boolean => {
    if (c.ws.readyState !== WebSocket.OPEN) return false;
    c.ws.send(text);
    return true;
  };
  const sendMarket = (c: Connection, ticker: string, kind: SentKind, text: string) => {
    if (!send(c, text)) return;
    sent.get(ticker)![kind]++;
    sentTotal++;
  };
  const nextSeq = (s: Subscription): number => {
    s.seq += s.skipNext ? 2 : 1;
    s.skipNext = false;
    return s.seq;
  };
  const covers = (s: Subscription, ticker: string) => s.tickers === null || s.tickers.includes(ticker);
  const errorFrame = (id: number | undefined, code: number, extra: Json = {}, scope?: Subscription) =>
    JSON.stringify({
      type: 'error',
      ...(id === undefined ? {} : { id }),
      ...(scope === undefined ? {} : { sid: scope.sid, seq: nextSeq(scope) }),
      msg: { code, msg: ERROR_TEXT[code] ?? 'Error', ...extra },
    });

  const dispatch = (e: SimEvent) => {
    events++;
    lastTsMs = e.tsMs;
    const book = books.get(e.ticker)!;
    if (e.kind === 'delta') book.applyDelta(e.side, e.priceUnits, e.deltaCenti);
    if (e.kind === 'trade') {
      const s = stats.get(e.ticker)!;
      s.lastPriceUnits = e.yesPriceUnits;
      s.lastSizeCenti = e.countCenti;
      s.volumeCenti += e.countCenti;
      s.volumeMicros += e.yesPriceUnits * e.countCenti;
    }
    for (const c of connections) {
      for (const s of c.subs.values()) {
        if (e.kind === 'delta') {
          if (s.channel === 'orderbook_delta' && covers(s, e.ticker)) sendMarket(c, e.ticker, 'delta', deltaFrame(s.sid, nextSeq(s), e, marketIds.get(e.ticker)!));
        } else if (e.kind === 'trade') {
          if (s.channel === 'trade' && covers(s, e.ticker)) sendMarket(c, e.ticker, 'trade', tradeFrame(s.sid, nextSeq(s), e));
          else if (s.channel === 'ticker' && covers(s, e.ticker)) {
            sendMarket(c, e.ticker, 'ticker', tickerFrame(s.sid, book, marketIds.get(e.ticker)!, stats.get(e.ticker)!, e.tsMs));
          }
        } else if (s.channel === 'market_lifecycle_v2') {
          sendMarket(c, e.ticker, 'lifecycle', lifecycleFrame(s.sid, nextSeq(s), e));
        }
      }
    }
  };

  const overflow = (c: Connection, sid?: number): number => {
    let n = 0;
    // Deleting the current entry while iterating a Map is safe.
    for (const s of c.subs.values()) {
      if (s.channel !== 'orderbook_delta' || (sid !== undefined && s.sid !== sid)) continue;
      send(c, errorFrame(undefined, 25, {}, s));
      c.subs.delete(s.sid);
      n++;
    }
    return n;
  };

  const pump = () => {
    timer = undefined;
    immediate = undefined;
    if (closed) return;
    if (speed === 'max') {
      for (const c of connections) {
        if (c.ws.bufferedAmount > highWater) {
          timer = setTimeout(pump, 2);
          return;
        }
      }
      for (let i = 0; i < MAX_BATCH; i++) {
        const e = sim.next();
        if (e === undefined) break;
        dispatch(e);
      }
    } else {
      const virtualNow = config.startMs + (clock.now() - startWall) * speed;
      while (sim.peekTsMs() <= virtualNow) dispatch(sim.next()!);
      for (const c of connections) if (c.ws.bufferedAmount > maxBuffered) overflow(c);
    }
    if (sim.done) {
      resolveFinished(result(true));
      return;
    }
    if (speed === 'max') immediate = setImmediate(pump);
    else {
      const virtualNow = config.startMs + (clock.now() - startWall) * speed;
      timer = setTimeout(pump, Math.min(1000, Math.max(0, (sim.peekTsMs() - virtualNow) / speed)));
    }
  };

  const start = () => {
    if (started || closed) return;
    started = true;
    startWall = clock.now();
    pump();
  };

  // ---- commands ----
  const handle = (c: Connection, text: string) => {
    let cmd: unknown;
    try {
      cmd = JSON.parse(text);
    } catch {
      send(c, errorFrame(undefined, 1));
      return;
    }
    if (!isObject(cmd)) {
      send(c, errorFrame(undefined, 1));
      return;
    }
    const id = typeof cmd.id === 'number' && cmd.id !== 0 ? cmd.id : undefined;
    const params = cmd.params;
    const fail = (code: number, extra: Json = {}) => send(c, errorFrame(id, code, extra));
    const tickersOf = (p: Json): string[] | undefined | 'invalid' => {
      if (p.market_ticker !== undefined && p.market_tickers !== undefined) return 'invalid';
      if (typeof p.market_ticker === 'string') return [p.market_ticker];
      if (Array.isArray(p.market_tickers) && p.market_tickers.length > 0 && p.market_tickers.every((t) => typeof t === 'string')) {
        return [...new Set(p.market_tickers as string[])];
      }
      return p.market_ticker === undefined && p.market_tickers === undefined ? undefined : 'invalid';
    };
    const unknownTickers = (tickers: readonly string[]) => tickers.filter((t) => !marketIds.has(t));
    const snapshot = (s: Subscription, ticker: string, commandId?: number) =>
      sendMarket(c, ticker, 'snapshot', snapshotFrame(s.sid, nextSeq(s), books.get(ticker)!, marketIds.get(ticker)!, commandId));

    switch (cmd.cmd) {
      case 'subscribe': {
        if (!isObject(params)) return fail(2);
        const channels = params.channels;
        if (!Array.isArray(channels) || channels.length === 0) return fail(3);
        if (!channels.every((ch): ch is SimChannel => CHANNELS.includes(ch as SimChannel))) return fail(8);
        const tickers = tickersOf(params);
        if (tickers === 'invalid') return fail(11);
        if (channels.includes('orderbook_delta') && tickers === undefined) return fail(14);
        const unknown = tickers === undefined ? [] : unknownTickers(tickers);
        if (unknown.length > 0) return fail(11, { market_tickers: unknown });
        for (const channel of new Set(channels)) {
          const s: Subscription = {
            sid: c.nextSid++,
            channel,
            tickers: channel === 'market_lifecycle_v2' || tickers === undefined ? null : [...tickers],
            seq: 0,
            skipNext: false,
          };
          c.subs.set(s.sid, s);
          send(c, subscribedFrame(id, channel, s.sid));
          if (channel === 'orderbook_delta') for (const t of s.tickers!) snapshot(s, t);
        }
        if (options.start !== 'manual' && !started && startTimer === undefined) {
          startTimer = setTimeout(start, options.startDelayMs ?? 100);
        }
        return;
      }
      case 'unsubscribe': {
        if (!isObject(params)) return fail(2);
        const sids = params.sids;
        if (!Array.isArray(sids) || sids.length === 0) return fail(4);
        for (const sid of sids) {
          const s = typeof sid === 'number' ? c.subs.get(sid) : undefined;
          if (s === undefined) {
            fail(7);
            continue;
          }
          c.subs.delete(s.sid);
          send(c, JSON.stringify({ ...(id === undefined ? {} : { id }), sid: s.sid, seq: nextSeq(s), type: 'unsubscribed' }));
        }
        return;
      }
      case 'update_subscription': {
        if (!isObject(params)) return fail(2);
        const sids = [...(params.sid === undefined ? [] : [params.sid]), ...(Array.isArray(params.sids) ? params.sids : [])];
        if (sids.length !== 1) return fail(12);
        const s = typeof sids[0] === 'number' ? c.subs.get(sids[0]) : undefined;
        if (s === undefined) return fail(7);
        const action = params.action;
        if (action === undefined) return fail(15);
        if (action !== 'add_markets' && action !== 'delete_markets' && action !== 'get_snapshot') return fail(13);
        if (s.channel !== 'orderbook_delta' && (action === 'get_snapshot' || s.channel !== 'ticker')) return fail(13);
        const tickers = tickersOf(params);
        if (tickers === 'invalid') return fail(11);
        if (tickers === undefined) return fail(14);
        const unknown = unknownTickers(tickers);
        if (unknown.length > 0) return fail(11, { market_tickers: unknown });
        if (action === 'get_snapshot') {
          const missing = tickers.filter((t) => !covers(s, t));
          if (missing.length > 0) return fail(11, { market_tickers: missing });
          for (const t of tickers) snapshot(s, t, id);
          return;
        }
        const current = s.tickers ?? sim.markets.map((m) => m.ticker);
        const added = action === 'add_markets' ? tickers.filter((t) => !current.includes(t)) : [];
        s.tickers = action === 'add_markets' ? [...current, ...added] : current.filter((t) => !tickers.includes(t));
        send(c, JSON.stringify({ type: 'ok', ...(id === undefined ? {} : { id }), sid: s.sid, seq: s.channel === 'ticker' ? undefined : nextSeq(s), msg: { market_tickers: s.tickers } }));
        if (s.channel === 'orderbook_delta') for (const t of added) snapshot(s, t);
        return;
      }
      case 'list_subscriptions':
        send(c, JSON.stringify({ type: 'ok', ...(id === undefined ? {} : { id }), msg: [...c.subs.values()].map((s) => ({ channel: s.channel, sid: s.sid })) }));
        return;
      default:
        fail(5);
    }
  };

  // ---- transport ----
  const wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  const http: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/trade-api/v2/markets') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          markets: sim.markets.map((m) => ({
            ticker: m.ticker,
            status: sim.results.has(m.ticker) ? 'settled' : 'open',
            price_level_structure: m.grid.structure,
            result: sim.results.get(m.ticker) ?? '',
          })),
          cursor: '',
        }),
      );
      return;
    }
    res.writeHead(404).end();
  });
  const reject = (socket: Duplex, status: 401 | 404, reason: string) => {
    const body = JSON.stringify({ error: { code: status === 401 ? 'authentication_error' : 'not_found', message: reason } });
    socket.end(
      `HTTP/1.1 ${status} ${status === 401 ? 'Unauthorized' : 'Not Found'}\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
    );
  };
  http.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if ((req.url ?? '/').split('?')[0] !== KALSHI_WS_PATH) return reject(socket, 404, 'unknown path');
    if (options.auth !== undefined) {
      const check = verifyKalshiRequest({
        publicKey: options.auth.publicKey,
        ...(options.auth.keyId === undefined ? {} : { keyId: options.auth.keyId }),
        ...(options.auth.maxSkewMs === undefined ? {} : { maxSkewMs: options.auth.maxSkewMs }),
        headers: req.headers,
        method: req.method ?? 'GET',
        path: KALSHI_WS_PATH,
        nowMs: clock.now(),
      });
      if (!check.ok) return reject(socket, 401, check.reason);
    }
    if (closed) return socket.destroy();
    wss.handleUpgrade(req, socket, head, (ws) => {
      const c: Connection = { ws, subs: new Map(), nextSid: 1 };
      connections.add(c);
      ws.on('message', (data) => handle(c, data.toString()));
      ws.on('close', () => connections.delete(c));
      ws.on('error', () => connections.delete(c));
    });
  });
  const heartbeatMs = options.heartbeatMs ?? 10_000;
  const heartbeat =
    heartbeatMs > 0
      ? setInterval(() => {
          for (const c of connections) if (c.ws.readyState === WebSocket.OPEN) c.ws.ping('heartbeat');
        }, heartbeatMs)
      : undefined;
  heartbeat?.unref();

  await new Promise<void>((resolve, rejectListen) => {
    http.once('error', rejectListen);
    http.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = http.address();
  const port = typeof address === 'object' && address !== null ? address.port : 0;
  const host = options.host ?? '127.0.0.1';

  const faults: ExchangeFaults = {
    sequenceGap: (o = {}) => {
      let n = 0;
      for (const c of connections) {
        for (const s of c.subs.values()) {
          if (s.channel === 'ticker' || (o.sid !== undefined && s.sid !== o.sid)) continue;
          s.skipNext = true;
          n++;
        }
      }
      return n;
    },
    bufferOverflow: (o = {}) => {
      let n = 0;
      for (const c of connections) n += overflow(c, o.sid);
      return n;
    },
    disconnect: () => {
      const n = connections.size;
      for (const c of connections) c.ws.terminate();
      connections.clear();
      return n;
    },
    malformedFrame: (kind = 'json') => {
      let n = 0;
      for (const c of connections) {
        if (kind === 'json') {
          send(c, '{"type":"orderbook_delta","sid":1,"seq":');
          n++;
          continue;
        }
        for (const s of c.subs.values()) {
          if (s.channel !== 'orderbook_delta') continue;
          send(c, JSON.stringify({ type: 'orderbook_delta', sid: s.sid, seq: nextSeq(s), msg: { market_ticker: s.tickers?.[0] ?? '', price_dollars: '1.5', delta_fp: 'ten', side: 'maybe' } }));
          n++;
        }
      }
      return n;
    },
  };

  return {
    url: `ws://${host.includes(':') ? `[${host}]` : host}:${port}${KALSHI_WS_PATH}`,
    port,
    markets: sim.markets,
    faults,
    finished,
    get connections() {
      return connections.size;
    },
    get sent() {
      return { total: sentTotal, markets: Object.fromEntries([...sent].map(([ticker, counts]) => [ticker, { ...counts }])) };
    },
    get progress() {
      return { events, tsMs: lastTsMs, fraction: Math.min(1, (lastTsMs - config.startMs) / config.durationMs) };
    },
    start,
    close: async () => {
      if (closed) return;
      closed = true;
      if (timer !== undefined) clearTimeout(timer);
      if (startTimer !== undefined) clearTimeout(startTimer);
      if (immediate !== undefined) clearImmediate(immediate);
      if (heartbeat !== undefined) clearInterval(heartbeat);
      for (const c of connections) c.ws.terminate();
      connections.clear();
      resolveFinished(result(false));
      await new Promise<void>((resolve) => wss.close(() => resolve()));
      await new Promise<void>((resolve) => http.close(() => resolve()));
    },
  };
}

/** Credentials that pass a local exchange's handshake check; the shape `createKalshiSigner` takes. */
export interface LocalExchangeCredentials {
  readonly apiKeyId: string;
  /** PKCS#8 PEM of a throwaway RSA key made for this server only. */
  readonly privateKeyPem: string;
}

/**
 * Starts the exchange on loopback with a throwaway RSA key pair and returns the credentials that pass its
 * handshake check (the same RSA-PSS verification Kalshi does), so a collector connects to it exactly as it
 * connects to Kalshi. The session's exchange clock starts now, as a real exchange's does (receipt-stamped
 * snapshots and exchange-stamped deltas then share one clock); the seed still fixes every price and size.
 *
 * @example
 * const { server, credentials } = await startLocalExchange({ config: resolveSimConfig('informed', { seed: 1 }), speed: 10 });
 * const signer = await createKalshiSigner(credentials); // @kflow/ingest
 */
export async function startLocalExchange(options: Omit<ExchangeServerOptions, 'auth'>): Promise<{ server: ExchangeServer; credentials: LocalExchangeCredentials }> {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const apiKeyId = 'sim';
  const startMs = (options.clock ?? systemClock).now();
  const server = await createExchangeServer({ ...options, config: { ...options.config, startMs }, auth: { publicKey, keyId: apiKeyId } });
  return { server, credentials: { apiKeyId, privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() } };
}
