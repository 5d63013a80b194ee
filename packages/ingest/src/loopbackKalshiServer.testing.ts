/**
 * Test support (not exported): a small Kalshi-protocol WebSocket server on loopback. It verifies the
 * RSA-PSS handshake signature with the matching public key, keeps the true books, streams seeded
 * deltas and trades on demand, answers subscribe / update_subscription / unsubscribe with sid and seq
 * (acks consume seq, as on the real feed), and injects faults: a sequence gap, error 25, a dropped
 * connection and malformed frames. A subscribe naming an unknown market is answered with error 11, and
 * handshakes can be refused on demand.
 */
import { constants, verify, type KeyObject } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { createRng, formatCount, formatPrice, type Rng } from '@kflow/orderbook';
import { WebSocketServer, type WebSocket } from 'ws';
import { KALSHI_WS_SIGN_PATH } from './auth';

type Book = { yes: Map<number, number>; no: Map<number, number> };

interface Sub {
  sid: number;
  channel: string;
  markets: Set<string>;
  seq: number;
  dead: boolean;
}

interface Conn {
  ws: WebSocket;
  subs: Sub[];
}

export interface LoopbackServer {
  readonly url: string;
  /** Handshakes rejected for a bad or missing signature. */
  readonly rejected: number;
  /** Connections accepted so far. */
  readonly accepted: number;
  /** The server's true books (price units → centi-contracts). */
  readonly books: ReadonlyMap<string, Book>;
  /** Streams `n` random deltas (and some trades) to every live subscription. */
  step(n: number): void;
  /** The next delta on every orderbook subscription is applied to the book but never sent. */
  injectGap(): void;
  /** Sends error 25 on every orderbook subscription and stops serving it. */
  injectError25(): void;
  /** Cuts every connection without a closing handshake. */
  dropConnections(): void;
  /** While on, every handshake is refused with HTTP 401 (a revoked key). */
  refuseHandshakes(on: boolean): void;
  /** Sends a non-JSON frame and a JSON frame of a known type with a broken body. */
  injectMalformed(): void;
  /** Sends a settlement lifecycle event for `market`. */
  settle(market: string, result: 'yes' | 'no'): void;
  /** Number of currently open, subscribed connections. */
  readonly liveSubscriptions: number;
  /** The market lists of the live subscriptions on `channel`. */
  subscribedMarkets(channel: string): string[][];
  close(): Promise<void>;
}

function level(book: Map<number, number>): [string, string][] {
  return [...book.entries()].sort((a, b) => a[0] - b[0]).map(([p, s]) => [formatPrice(p), formatCount(s)]);
}

export async function startLoopbackServer(options: { publicKey: KeyObject; markets: readonly string[]; seed: number }): Promise<LoopbackServer> {
  const rng: Rng = createRng(options.seed);
  const books = new Map<string, Book>();
  for (const m of options.markets) {
    // Whole-cent, uncrossed books: YES bids 0.30–0.45, NO bids 0.40–0.55 (YES asks 0.45–0.60).
    const yes = new Map<number, number>();
    const no = new Map<number, number>();
    for (let p = 3000; p <= 4500; p += 100) yes.set(p, 100 + rng.int(50_000));
    for (let p = 4000; p <= 5400; p += 100) no.set(p, 100 + rng.int(50_000));
    books.set(m, { yes, no });
  }
  const conns = new Set<Conn>();
  let nextSid = 1;
  let tsMs = 1_780_000_000_000;
  let rejected = 0;
  let accepted = 0;
  let gapPending = false;
  let refusing = false;

  const wss = new WebSocketServer({
    host: '127.0.0.1',
    port: 0,
    verifyClient: (info, done) => {
      const h = info.req.headers;
      const ts = h['kalshi-access-timestamp'];
      const sig = h['kalshi-access-signature'];
      const key = h['kalshi-access-key'];
      const ok =
        !refusing &&
        typeof ts === 'string' &&
        typeof sig === 'string' &&
        typeof key === 'string' &&
        key.length > 0 &&
        verify(
          'sha256',
          Buffer.from(ts + 'GET' + KALSHI_WS_SIGN_PATH),
          { key: options.publicKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: constants.RSA_PSS_SALTLEN_DIGEST },
          Buffer.from(sig, 'base64'),
        );
      if (!ok) rejected++;
      done(ok, 401, 'Unauthorized');
    },
  });
  await new Promise<void>((resolve) => wss.once('listening', resolve));
  const port = (wss.address() as AddressInfo).port;

  const send = (c: Conn, frame: unknown) => {
    if (c.ws.readyState === c.ws.OPEN) c.ws.send(JSON.stringify(frame));
  };
  const sendSeq = (c: Conn, sub: Sub, type: string, msg: unknown, id?: number) => {
    sub.seq++;
    send(c, id === undefined ? { type, sid: sub.sid, seq: sub.seq, msg } : { id, type, sid: sub.sid, seq: sub.seq, msg });
  };
  const snapshot = (c: Conn, sub: Sub, market: string, id?: number) => {
    const b = books.get(market)!;
    const msg: Record<string, unknown> = { market_ticker: market, market_id: `id-${market}` };
    if (b.yes.size > 0) msg.yes_dollars_fp = level(b.yes);
    if (b.no.size > 0) msg.no_dollars_fp = level(b.no);
    sendSeq(c, sub, 'orderbook_snapshot', msg, id);
  };

  wss.on('connection', (ws) => {
    accepted++;
    const c: Conn = { ws, subs: [] };
    conns.add(c);
    ws.on('close', () => conns.delete(c));
    ws.on('message', (data) => {
      const cmd = JSON.parse(String(data)) as { id: number; cmd: string; params: Record<string, unknown> };
      const p = cmd.params;
      if (cmd.cmd === 'subscribe') {
        const unknown = ((p.market_tickers as string[] | undefined) ?? []).filter((m) => !books.has(m));
        if (unknown.length > 0) {
          send(c, { id: cmd.id, type: 'error', msg: { code: 11, msg: 'Invalid parameter', market_tickers: unknown } });
          return;
        }
        for (const channel of p.channels as string[]) {
          const sub: Sub = { sid: nextSid++, channel, markets: new Set((p.market_tickers as string[] | undefined) ?? []), seq: 0, dead: false };
          c.subs.push(sub);
          send(c, { id: cmd.id, type: 'subscribed', msg: { channel, sid: sub.sid } });
          if (channel === 'orderbook_delta') for (const m of sub.markets) snapshot(c, sub, m);
        }
      } else if (cmd.cmd === 'update_subscription') {
        const sid = (p.sids as number[] | undefined)?.[0] ?? (p.sid as number);
        const sub = c.subs.find((s) => s.sid === sid && !s.dead);
        if (!sub) {
          send(c, { id: cmd.id, type: 'error', msg: { code: 7, msg: 'Unknown subscription ID' } });
          return;
        }
        const tickers = p.market_tickers as string[];
        if (p.action === 'get_snapshot') for (const m of tickers) snapshot(c, sub, m, cmd.id);
        else {
          for (const m of tickers) {
            if (p.action === 'add_markets') sub.markets.add(m);
            else sub.markets.delete(m);
          }
          sendSeq(c, sub, 'ok', { market_tickers: [...sub.markets] }, cmd.id);
          if (p.action === 'add_markets') for (const m of tickers) if (books.has(m)) snapshot(c, sub, m);
        }
      } else if (cmd.cmd === 'unsubscribe') {
        for (const sid of p.sids as number[]) {
          const sub = c.subs.find((s) => s.sid === sid);
          if (!sub) continue;
          sub.dead = true;
          sendSeq(c, sub, 'unsubscribed', undefined, cmd.id);
        }
      }
    });
  });

  const live = (channel: string) => [...conns].flatMap((c) => c.subs.filter((s) => s.channel === channel && !s.dead).map((s) => ({ c, s })));

  return {
    url: `ws://127.0.0.1:${port}${KALSHI_WS_SIGN_PATH}`,
    get rejected() {
      return rejected;
    },
    get accepted() {
      return accepted;
    },
    books,
    get liveSubscriptions() {
      return live('orderbook_delta').length;
    },
    subscribedMarkets: (channel) => live(channel).map(({ s }) => [...s.markets].sort()),
    step(n) {
      for (let i = 0; i < n; i++) {
        const market = options.markets[rng.int(options.markets.length)]!;
        const side = rng.next() < 0.5 ? 'yes' : 'no';
        const ladder = books.get(market)![side];
        const prices = [...ladder.keys()];
        const maxPrice = side === 'yes' ? 4500 : 5400;
        // Mostly changes at existing levels (sometimes removing one), sometimes a new level below the top.
        let price: number;
        let delta: number;
        if (prices.length > 0 && rng.next() < 0.8) {
          price = prices[rng.int(prices.length)]!;
          const size = ladder.get(price)!;
          delta = rng.next() < 0.1 ? -size : rng.next() < 0.5 ? -(1 + rng.int(Math.min(size, 1000))) : 1 + rng.int(5000);
        } else {
          price = maxPrice - 100 * rng.int(10);
          delta = 1 + rng.int(5000);
        }
        const next = (ladder.get(price) ?? 0) + delta;
        if (next === 0) ladder.delete(price);
        else ladder.set(price, next);
        tsMs += 1 + rng.int(20);
        const msg = { market_ticker: market, market_id: `id-${market}`, price_dollars: formatPrice(price), delta_fp: formatCount(delta), side, ts_ms: tsMs };
        const skip = gapPending;
        gapPending = false;
        for (const { c, s } of live('orderbook_delta')) {
          if (!s.markets.has(market)) continue;
          if (skip) s.seq++; // lost in transit
          else sendSeq(c, s, 'orderbook_delta', msg);
        }
        if (rng.next() < 0.05) {
          const trade = {
            trade_id: `t-${tsMs}`,
            market_ticker: market,
            yes_price_dollars: formatPrice(4500),
            no_price_dollars: formatPrice(5500),
            count_fp: formatCount(100 + rng.int(1000)),
            taker_side: rng.next() < 0.5 ? 'yes' : 'no',
            ts_ms: tsMs,
          };
          for (const { c, s } of live('trade')) if (s.markets.has(market)) sendSeq(c, s, 'trade', trade);
        }
      }
    },
    injectGap() {
      gapPending = true;
    },
    injectError25() {
      for (const { c, s } of live('orderbook_delta')) {
        s.seq++;
        send(c, { type: 'error', sid: s.sid, seq: s.seq, msg: { code: 25, msg: 'Subscription buffer overflow' } });
        s.dead = true;
      }
    },
    dropConnections() {
      for (const c of conns) c.ws.terminate();
    },
    refuseHandshakes(on) {
      refusing = on;
    },
    injectMalformed() {
      for (const c of conns) {
        if (c.ws.readyState !== c.ws.OPEN) continue;
        c.ws.send('{"type":"orderbook_delta","sid":');
        c.ws.send(JSON.stringify({ type: 'orderbook_snapshot', msg: { market_ticker: options.markets[0] } }));
      }
    },
    settle(market, result) {
      tsMs += 10;
      const msg = { market_ticker: market, event_type: 'settled', result, settled_ts: Math.floor(tsMs / 1000) };
      for (const { c, s } of live('market_lifecycle_v2')) sendSeq(c, s, 'market_lifecycle_v2', msg);
    },
    async close() {
      for (const c of conns) c.ws.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    },
  };
}
