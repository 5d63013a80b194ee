import { generateKeyPairSync } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { EventKind, OrderBook, createRng, sessionDataFromCaptureSync, type BookView, type SessionData } from '@kflow/orderbook';
import { WebSocketServer } from 'ws';
import { describe, expect, it } from 'vitest';
import { createKalshiSigner } from './auth';
import { createCollector, type Collector } from './collector';
import { KalshiClient, type KalshiClientEvent } from './kalshiClient';
import type { IngestDatabase } from './queryable';
import { createSessionLoader } from './sessionLoader';
import { describeEachBackend, useTempDir, waitFor } from './databases.testing';
import { startLoopbackServer, type LoopbackServer } from './loopbackKalshiServer.testing';

const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const PEM = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
const MARKETS = ['TEST-ALPHA', 'TEST-BETA', 'TEST-GAMMA'];

type Levels = [number, number][];
const sorted = (m: ReadonlyMap<number, number>): Levels => [...m.entries()].sort((a, b) => a[0] - b[0]);
const levelsOf = (b: BookView | undefined) => (b ? { yes: b.levels('yes'), no: b.levels('no') } : undefined);

function serverBooks(server: LoopbackServer, markets: readonly string[]) {
  return Object.fromEntries(markets.map((m) => [m, { yes: sorted(server.books.get(m)!.yes), no: sorted(server.books.get(m)!.no) }]));
}

function clientBooks(collector: Collector, markets: readonly string[]) {
  return Object.fromEntries(markets.map((m) => [m, levelsOf(collector.state.book(m))]));
}

/** Replays a SessionData's events into fresh books: what the env will see at the end of the session. */
function rebuild(session: SessionData): Record<string, { yes: Levels; no: Levels }> {
  const out: Record<string, { yes: Levels; no: Levels }> = {};
  for (const s of session.markets) {
    const book = new OrderBook(s.ticker);
    book.applySnapshot(s.initial.yes, s.initial.no);
    for (let i = 0; i < s.length; i++) {
      const kind = s.kind[i]!;
      if (kind === EventKind.DeltaYes || kind === EventKind.DeltaNo) book.applyDelta(kind === EventKind.DeltaYes ? 'yes' : 'no', s.price[i]!, s.qty[i]!);
      else if (kind === EventKind.Snapshot) {
        const snap = s.snapshots[s.qty[i]!]!;
        book.applySnapshot(snap.yes, snap.no);
      }
    }
    out[s.ticker] = { yes: book.levels('yes') as Levels, no: book.levels('no') as Levels };
  }
  return out;
}

const json = (v: unknown) => JSON.stringify(v);

describeEachBackend('collector against a loopback Kalshi server, stored', 'collect', (t) => {
  const { name } = t;
  const dir = useTempDir('kflow-collect-');

  it('recovers from a gap, error 25, a dropped connection and malformed frames; the database rebuilds the server books', async () => {
    const server = await startLoopbackServer({ publicKey, markets: MARKETS, seed: name === 'pglite' ? 11 : 12 });
    const events: KalshiClientEvent[] = [];
    const recordPath = join(dir(), `capture-${name}.jsonl`);
    const collector = createCollector({
      url: server.url,
      signer: await createKalshiSigner({ apiKeyId: 'test-key', privateKeyPem: PEM }),
      markets: MARKETS.slice(0, 2),
      db: t.db,
      recordPath,
      sessionId: `loopback-${name}`,
      rng: createRng(3),
      initialBackoffMs: 10,
      maxBackoffMs: 40,
      pingIntervalMs: 200,
      readTimeoutMs: 5000,
      queue: { flushIntervalMs: 20, batchSize: 500 },
      onEvent: (e) => events.push(e),
    });
    const inSync = (markets: readonly string[]) => json(clientBooks(collector, markets)) === json(serverBooks(server, markets));
    const fresh = (markets: readonly string[]) => markets.every((m) => collector.state.book(m)?.stale === false);
    const settle = async (what: string, markets = MARKETS.slice(0, 2)) => {
      await waitFor(() => inSync(markets) && fresh(markets), what);
    };
    try {
      await collector.start();
      await waitFor(() => server.liveSubscriptions === 1, 'subscription');
      server.step(400);
      await settle('initial stream');

      server.injectGap();
      server.step(300);
      await waitFor(() => collector.client.stats.gaps >= 1, 'gap detected');
      await settle('resync after gap');
      expect(collector.client.stats.snapshotRequests).toBeGreaterThanOrEqual(1);

      server.injectError25();
      await waitFor(() => collector.client.stats.resubscribes >= 1 && server.liveSubscriptions === 1, 'resubscribe after error 25');
      server.step(300);
      await settle('stream after error 25');

      server.dropConnections();
      await waitFor(() => collector.client.stats.reconnects >= 1 && server.liveSubscriptions === 1, 'reconnect');
      server.step(300);
      await settle('stream after reconnect');

      server.injectMalformed();
      server.step(200);
      await waitFor(() => collector.client.stats.malformed >= 2, 'malformed frames counted');
      await settle('stream after malformed frames');

      collector.addMarkets([MARKETS[2]!]);
      await waitFor(() => collector.state.book(MARKETS[2]!) !== undefined, 'snapshot of the added market');
      server.step(400);
      await settle('three markets', MARKETS);
      server.settle(MARKETS[0]!, 'yes');
      await waitFor(() => (collector.status().queue?.enqueued ?? 0) > 0 && collector.client.stats.frames > 0, 'frames');
      await new Promise((resolve) => setTimeout(resolve, 50));
    } finally {
      await collector.stop();
      await server.close();
    }
    const status = collector.status();
    expect(status.counts).toMatchObject({ malformed: 2 });
    expect(status.counts.gaps).toBeGreaterThanOrEqual(1);
    expect(status.counts.reconnects).toBe(1);
    expect(status.queue).toMatchObject({ dropped: 0, pending: 0 });
    expect(status.queue!.written).toBe(status.queue!.enqueued);
    expect(server.rejected).toBe(0);
    expect(events.some((e) => e.type === 'resubscribe' && e.code === 25)).toBe(true);
    // Events never carry credentials.
    expect(JSON.stringify(events)).not.toMatch(/KALSHI-ACCESS|test-key|PRIVATE/);

    const loader = createSessionLoader({ db: t.db });
    const fromDb = await loader.load(`loopback-${name}`);
    const capture = (await readFile(recordPath, 'utf8')).split('\n');
    const fromCapture = sessionDataFromCaptureSync(capture, { id: `loopback-${name}` });
    expect(fromDb).toEqual(fromCapture);
    expect(fromDb.markets.map((m) => m.ticker)).toEqual(MARKETS);
    expect(rebuild(fromDb)).toEqual(serverBooks(server, MARKETS));
    expect(fromDb.markets[0]!.settlement).toMatchObject({ result: 'yes', yesPayoutUnits: 10_000 });
    expect(fromDb.markets.reduce((n, m) => n + m.length, 0)).toBeGreaterThan(1200);

    const [summary] = (await loader.list()).filter((s) => s.id === `loopback-${name}`);
    expect(summary).toMatchObject({ status: 'completed', environment: 'custom', markets: MARKETS, counts: { reconnects: 1, malformed: 2 } });
    expect(summary!.stored.deltas).toBe(status.counts.deltas);
    expect(summary!.stored.snapshots).toBe(status.counts.snapshots);
    expect(summary!.stored.lifecycle).toBe(1);
    await expect(loader.load('no-such-session')).rejects.toMatchObject({ code: 'SESSION_NOT_FOUND' });
  });
});

describe('collector connection handling', () => {
  it('the socket handler never awaits or starts I/O: rows reach the database after it returned', async () => {
    const inserts: number[] = [];
    const db: IngestDatabase = {
      kind: 'custom',
      query: async () => ({ rows: [] }),
      exec: async () => {},
      insertRows: async (_, rows) => {
        inserts.push(rows.length);
      },
      close: async () => {},
    };
    const collector = createCollector({ url: 'ws://127.0.0.1:9/trade-api/ws/v2', markets: ['A'], db, queue: { batchSize: 100 }, rng: createRng(4) });
    const frames = [
      '{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":1}}',
      '{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"A","market_id":"a","yes_dollars_fp":[["0.4000","10.00"]],"no_dollars_fp":[]}}',
      ...Array.from({ length: 999 }, (_, i) =>
        JSON.stringify({ type: 'orderbook_delta', sid: 1, seq: i + 2, msg: { market_ticker: 'A', market_id: 'a', price_dollars: '0.4000', delta_fp: '1.00', side: 'yes', ts_ms: 1 + i } }),
      ),
    ];
    for (const [i, raw] of frames.entries()) expect(collector.client.handleMessage(raw, 1000 + i)).toBeUndefined();
    // Ten full batches were sealed, yet no write has started: the pump runs on a later tick.
    expect(collector.status().queue).toMatchObject({ enqueued: 1000, pending: 1000 });
    expect(inserts).toEqual([]);
    const final = await collector.stop();
    expect(final.queue).toMatchObject({ written: 1000, pending: 0 });
    expect(inserts.reduce((a, b) => a + b, 0)).toBe(1000);
    expect(collector.state.book('A')?.levels('yes')).toEqual([[4000, 1000 + 99_900]]);
  });

  it('refuses to start when the handshake is refused (HTTP 401): a typed error that says what to check, nothing left open', async () => {
    const server = await startLoopbackServer({ publicKey, markets: MARKETS, seed: 1 });
    const other = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    const statuses: string[] = [];
    const db: IngestDatabase = {
      kind: 'custom',
      query: async (text, params) => {
        if (/UPDATE/.test(text)) statuses.push(String((params ?? [])[2]));
        return { rows: [] };
      },
      exec: async () => {},
      insertRows: async () => {},
      close: async () => {},
    };
    const collector = createCollector({ url: server.url, signer: await createKalshiSigner({ apiKeyId: 'k', privateKeyPem: other }), markets: MARKETS, db, rng: createRng(9) });
    try {
      const error = await collector.start().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toMatchObject({ code: 'AUTH_REFUSED' });
      expect((error as Error).message).toMatch(/refused the handshake with HTTP 401: check the API key id and its private key/);
      // One attempt: a wrong key is not retried.
      expect(server.rejected).toBe(1);
      expect(collector.client.stats.connected).toBe(false);
      expect(statuses).toEqual(['failed']);
      // stop() after a failed start is harmless and reports the same final state.
      expect((await collector.stop()).sessionId).toBe(collector.sessionId);
    } finally {
      await server.close();
    }
  });

  it('once started, keeps retrying with capped, jittered backoff while handshakes are refused, and reports why', async () => {
    const server = await startLoopbackServer({ publicKey, markets: MARKETS, seed: 1 });
    const events: KalshiClientEvent[] = [];
    const collector = createCollector({
      url: server.url,
      signer: await createKalshiSigner({ apiKeyId: 'k', privateKeyPem: PEM }),
      markets: MARKETS,
      rng: createRng(9),
      initialBackoffMs: 5,
      maxBackoffMs: 20,
      onEvent: (e) => events.push(e),
    });
    try {
      await collector.start();
      server.refuseHandshakes(true);
      server.dropConnections();
      await waitFor(() => server.rejected >= 5, 'five rejected handshakes');
      server.refuseHandshakes(false);
      await waitFor(() => collector.client.stats.connected && server.liveSubscriptions === 1, 'reconnected once the key is accepted again');
    } finally {
      await collector.stop();
      await server.close();
    }
    const delays = events.flatMap((e) => (e.type === 'reconnect-scheduled' ? [e.delayMs] : []));
    expect(delays.length).toBeGreaterThanOrEqual(5);
    expect(Math.max(...delays)).toBeLessThanOrEqual(20);
    expect(delays[0]).toBeGreaterThanOrEqual(2);
    const refused = events.filter((e) => e.type === 'disconnected' && e.failure.kind === 'auth');
    expect(refused.length).toBeGreaterThanOrEqual(5);
  });

  it('start() says why it cannot connect: unreachable host (after the connect timeout), TLS failure, subscription error', async () => {
    // A port nobody listens on.
    const closed = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => closed.once('listening', resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const unreachable = new KalshiClient({ url: `ws://127.0.0.1:${deadPort}/trade-api/ws/v2`, markets: MARKETS, rng: createRng(1), initialBackoffMs: 5, maxBackoffMs: 20, connectTimeoutMs: 300 });
    const startedAt = performance.now();
    await expect(unreachable.start()).rejects.toMatchObject({ code: 'CONNECT_FAILED', message: expect.stringMatching(/within 300 ms: cannot reach the server \(ECONNREFUSED/) });
    expect(performance.now() - startedAt).toBeLessThan(5000);
    expect(unreachable.stats.reconnects).toBeGreaterThan(0); // it did retry until the deadline

    // wss:// to a plain ws:// server: the TLS handshake fails at once, and is not retried.
    const plain = await startLoopbackServer({ publicKey, markets: MARKETS, seed: 1 });
    try {
      const tls = new KalshiClient({ url: plain.url.replace('ws://', 'wss://'), markets: MARKETS, rng: createRng(1), connectTimeoutMs: 5000 });
      await expect(tls.start()).rejects.toMatchObject({ code: 'TLS_FAILED', message: expect.stringMatching(/TLS handshake failed/) });
      expect(tls.stats.reconnects).toBe(0);

      const signer = await createKalshiSigner({ apiKeyId: 'k', privateKeyPem: PEM });
      const badTicker = new KalshiClient({ url: plain.url, signer, markets: [MARKETS[0]!, 'NO-SUCH-MARKET'], rng: createRng(1) });
      await expect(badTicker.start()).rejects.toMatchObject({
        code: 'SUBSCRIPTION_FAILED',
        message: expect.stringMatching(/subscribing to orderbook_delta failed: server error 11 "Invalid parameter" \(markets: NO-SUCH-MARKET\)/),
      });
      await waitFor(() => plain.liveSubscriptions === 0, 'the failed client closed its connection');
    } finally {
      await plain.close();
    }
  });

  it('keeps the market set across reconnects (add_markets, delete_markets, resubscribe)', async () => {
    const server = await startLoopbackServer({ publicKey, markets: MARKETS, seed: 5 });
    const collector = createCollector({
      url: server.url,
      signer: await createKalshiSigner({ apiKeyId: 'k', privateKeyPem: PEM }),
      markets: [MARKETS[0]!],
      rng: createRng(2),
      initialBackoffMs: 5,
      maxBackoffMs: 10,
    });
    const books = (ms: readonly string[]) => json(clientBooks(collector, ms)) === json(serverBooks(server, ms));
    try {
      await collector.start();
      await waitFor(() => server.liveSubscriptions === 1, 'subscription');
      collector.addMarkets([MARKETS[1]!, MARKETS[2]!]);
      collector.removeMarkets([MARKETS[0]!]);
      await waitFor(() => json(server.subscribedMarkets('orderbook_delta')) === json([[MARKETS[1], MARKETS[2]]]), 'updated orderbook subscription');
      // The trade channel cannot be updated in place: it is re-subscribed with the new list.
      await waitFor(() => json(server.subscribedMarkets('trade')) === json([[MARKETS[1], MARKETS[2]]]), 'trade subscription');
      server.dropConnections();
      await waitFor(() => collector.client.stats.reconnects === 1 && server.liveSubscriptions === 1, 'reconnect');
      expect(server.subscribedMarkets('orderbook_delta')).toEqual([[MARKETS[1], MARKETS[2]]]);
      server.step(300);
      await waitFor(() => books(MARKETS.slice(1)), 'books of the current markets');
    } finally {
      await collector.stop();
      await server.close();
    }
  });

  it('reconnects when the read watchdog sees a silent server', async () => {
    // A server that acknowledges the subscriptions and then says nothing, not even pongs.
    const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, autoPong: false });
    await new Promise<void>((resolve) => wss.once('listening', resolve));
    let connections = 0;
    wss.on('connection', (ws) => {
      connections++;
      let sid = 1;
      ws.on('message', (data) => {
        const cmd = JSON.parse(String(data)) as { id: number; params: { channels: string[] } };
        for (const channel of cmd.params.channels) ws.send(JSON.stringify({ id: cmd.id, type: 'subscribed', msg: { channel, sid: sid++ } }));
      });
    });
    const collector = createCollector({
      url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}/trade-api/ws/v2`,
      markets: MARKETS,
      rng: createRng(1),
      pingIntervalMs: 20,
      readTimeoutMs: 60,
      initialBackoffMs: 5,
      maxBackoffMs: 10,
    });
    try {
      await collector.start();
      await waitFor(() => connections >= 3, 'watchdog reconnects');
    } finally {
      await collector.stop();
      for (const c of wss.clients) c.terminate();
      await new Promise<void>((resolve) => wss.close(() => resolve()));
    }
    expect(collector.client.stats.reconnects).toBeGreaterThanOrEqual(2);
  });
});
