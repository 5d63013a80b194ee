import { constants, generateKeyPairSync, sign } from 'node:crypto';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type KalshiFrame, SharedOrderbookState, parseFrame } from '@kflow/orderbook';
import { WebSocket } from 'ws';
import { KALSHI_WS_PATH } from './auth';
import { resolveSimConfig } from './config';
import { type ExchangeServer, type ExchangeServerOptions, createExchangeServer, startLocalExchange } from './exchangeServer';

type Raw = { type: string; id?: number; sid?: number; seq?: number; msg?: Record<string, unknown> & { code?: number } };

let keys: { publicKey: string; privateKey: string };
beforeAll(() => {
  keys = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
});

function signedHeaders(privateKey: string, tsMs = Date.now()): Record<string, string> {
  const ts = String(tsMs);
  const signature = sign('sha256', Buffer.from(`${ts}GET${KALSHI_WS_PATH}`), {
    key: privateKey,
    padding: constants.RSA_PKCS1_PSS_PADDING,
    saltLength: constants.RSA_PSS_SALTLEN_DIGEST,
  }).toString('base64');
  return { 'KALSHI-ACCESS-KEY': 'key-1', 'KALSHI-ACCESS-TIMESTAMP': ts, 'KALSHI-ACCESS-SIGNATURE': signature };
}

/** A test client: records every text frame; `waitFor` resolves on the first (new) frame matching. */
async function connect(url: string, headers: Record<string, string> = {}) {
  const ws = new WebSocket(url, { headers });
  const texts: string[] = [];
  const waiters: { pred: (f: Raw, text: string) => boolean; resolve: (f: Raw) => void }[] = [];
  ws.on('message', (data) => {
    const text = data.toString();
    texts.push(text);
    let raw: Raw;
    try {
      raw = JSON.parse(text) as Raw;
    } catch {
      raw = { type: '<invalid json>' };
    }
    for (let i = waiters.length - 1; i >= 0; i--) {
      const w = waiters[i]!;
      if (w.pred(raw, text)) {
        waiters.splice(i, 1);
        w.resolve(raw);
      }
    }
  });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
    ws.once('unexpected-response', (_req, res) => reject(new Error(`HTTP ${res.statusCode}`)));
  });
  let id = 0;
  return {
    ws,
    texts,
    send(cmd: string, params?: unknown): number {
      ws.send(JSON.stringify({ id: ++id, cmd, ...(params === undefined ? {} : { params }) }));
      return id;
    },
    /** The first frame at index ≥ `from` matching `pred`, already received or still to come. */
    waitFor(pred: (f: Raw, text: string) => boolean, from = 0, timeoutMs = 5000): Promise<Raw> {
      for (let i = from; i < texts.length; i++) {
        const text = texts[i]!;
        let raw: Raw;
        try {
          raw = JSON.parse(text) as Raw;
        } catch {
          raw = { type: '<invalid json>' };
        }
        if (pred(raw, text)) return Promise.resolve(raw);
      }
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error('timed out waiting for a frame')), timeoutMs);
        waiters.push({ pred, resolve: (f) => (clearTimeout(timer), resolve(f)) });
      });
    },
    frames(): Raw[] {
      return texts.flatMap((t) => {
        try {
          return [JSON.parse(t) as Raw];
        } catch {
          return [];
        }
      });
    },
  };
}

const servers: ExchangeServer[] = [];
async function serve(options: Partial<ExchangeServerOptions> = {}) {
  const server = await createExchangeServer({
    config: resolveSimConfig('informed', { seed: 2, markets: 3, durationMs: 20_000 }),
    heartbeatMs: 0,
    ...options,
  });
  servers.push(server);
  return server;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** seq must be consecutive per sid over every frame that carries one (acks included). */
function expectSeqContinuity(frames: readonly Raw[]) {
  const last = new Map<number, number>();
  for (const f of frames) {
    if (f.seq === undefined) continue;
    const prev = last.get(f.sid!);
    if (prev !== undefined) expect(f.seq).toBe(prev + 1);
    else expect(f.seq).toBe(1);
    last.set(f.sid!, f.seq);
  }
  return last;
}

describe('handshake auth', () => {
  it('accepts a valid RSA-PSS signature and refuses bad ones with HTTP 401', async () => {
    const server = await serve({ auth: { publicKey: keys.publicKey, keyId: 'key-1' }, start: 'manual' });
    const ok = await connect(server.url, signedHeaders(keys.privateKey));
    expect(server.connections).toBe(1);
    ok.ws.close();

    const other = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs8', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
    await expect(connect(server.url, signedHeaders(other.privateKey))).rejects.toThrow('HTTP 401');
    await expect(connect(server.url)).rejects.toThrow('HTTP 401');
    // Timestamp in seconds instead of ms: the classic mistake.
    await expect(connect(server.url, signedHeaders(keys.privateKey, Math.floor(Date.now() / 1000)))).rejects.toThrow('HTTP 401');
    await expect(connect(server.url, { ...signedHeaders(keys.privateKey), 'KALSHI-ACCESS-KEY': 'someone-else' })).rejects.toThrow('HTTP 401');
    await expect(connect(server.url.replace('/ws/v2', '/ws/v3'), signedHeaders(keys.privateKey))).rejects.toThrow('HTTP 404');
  });

  it('startLocalExchange: its credentials pass the check, other keys do not; the session clock starts now', async () => {
    const before = Date.now();
    const { server, credentials } = await startLocalExchange({ config: resolveSimConfig('calm', { seed: 1, markets: 1 }), start: 'manual' });
    try {
      const headers = { ...signedHeaders(credentials.privateKeyPem), 'KALSHI-ACCESS-KEY': credentials.apiKeyId };
      const ok = await connect(server.url, headers);
      ok.ws.close();
      await expect(connect(server.url, { ...signedHeaders(keys.privateKey), 'KALSHI-ACCESS-KEY': credentials.apiKeyId })).rejects.toThrow('HTTP 401');
      expect(server.progress.tsMs).toBeGreaterThanOrEqual(before);
    } finally {
      await server.close();
    }
  });
});

describe('commands', () => {
  it('subscribe, update_subscription (add/delete/get_snapshot), list and unsubscribe, with seq on every sequenced ack', async () => {
    const server = await serve({ start: 'manual' });
    const [m0, m1, m2] = server.markets.map((m) => m.ticker) as [string, string, string];
    const client = await connect(server.url);

    const sub = client.send('subscribe', { channels: ['orderbook_delta'], market_ticker: m0 });
    const subscribed = await client.waitFor((f) => f.type === 'subscribed' && f.id === sub);
    const sid = (subscribed.msg as { sid: number }).sid;
    const snap0 = await client.waitFor((f) => f.type === 'orderbook_snapshot');
    expect(snap0).toMatchObject({ sid, seq: 1, msg: { market_ticker: m0 } });

    const add = client.send('update_subscription', { sids: [sid], market_tickers: [m1, m2], action: 'add_markets' });
    const ok = await client.waitFor((f) => f.type === 'ok' && f.id === add);
    expect(ok).toMatchObject({ sid, seq: 2, msg: { market_tickers: [m0, m1, m2] } });
    await client.waitFor((f) => f.type === 'orderbook_snapshot' && f.seq === 4);

    const del = client.send('update_subscription', { sid, market_tickers: [m1], action: 'delete_markets' });
    expect(await client.waitFor((f) => f.type === 'ok' && f.id === del)).toMatchObject({ sid, seq: 5, msg: { market_tickers: [m0, m2] } });

    const get = client.send('update_subscription', { sids: [sid], market_tickers: [m2], action: 'get_snapshot' });
    expect(await client.waitFor((f) => f.type === 'orderbook_snapshot' && f.id === get)).toMatchObject({ sid, seq: 6, msg: { market_ticker: m2 } });

    client.send('subscribe', { channels: ['trade', 'market_lifecycle_v2'] });
    await client.waitFor((f) => f.type === 'subscribed' && (f.msg as { channel: string }).channel === 'market_lifecycle_v2');
    const list = client.send('list_subscriptions');
    expect(await client.waitFor((f) => f.type === 'ok' && f.id === list)).toMatchObject({
      msg: [
        { channel: 'orderbook_delta', sid },
        { channel: 'trade', sid: sid + 1 },
        { channel: 'market_lifecycle_v2', sid: sid + 2 },
      ],
    });

    const unsub = client.send('unsubscribe', { sids: [sid] });
    expect(await client.waitFor((f) => f.type === 'unsubscribed' && f.id === unsub)).toMatchObject({ sid, seq: 7 });
    expectSeqContinuity(client.frames());
    for (const text of client.texts) parseFrame(JSON.parse(text));
  });

  it('answers invalid commands with Kalshi error codes', async () => {
    const server = await serve({ start: 'manual' });
    const ticker = server.markets[0]!.ticker;
    const client = await connect(server.url);
    const code = async (cmd: string, params?: unknown) => {
      const id = client.send(cmd, params);
      const f = await client.waitFor((x) => x.type === 'error' && x.id === id);
      return f.msg!.code;
    };
    expect(await code('explode')).toBe(5);
    expect(await code('subscribe')).toBe(2);
    expect(await code('subscribe', { channels: [] })).toBe(3);
    expect(await code('subscribe', { channels: ['nope'], market_ticker: ticker })).toBe(8);
    expect(await code('subscribe', { channels: ['orderbook_delta'] })).toBe(14);
    expect(await code('subscribe', { channels: ['orderbook_delta'], market_ticker: 'NOT-A-MARKET' })).toBe(11);
    expect(await code('unsubscribe', { sids: [] })).toBe(4);
    expect(await code('unsubscribe', { sids: [99] })).toBe(7);
    expect(await code('update_subscription', { sids: [1, 2], action: 'add_markets', market_ticker: ticker })).toBe(12);
    expect(await code('update_subscription', { sid: 42, action: 'add_markets', market_ticker: ticker })).toBe(7);
    client.send('subscribe', { channels: ['orderbook_delta'], market_ticker: ticker });
    await client.waitFor((f) => f.type === 'subscribed');
    expect(await code('update_subscription', { sid: 1, market_ticker: ticker })).toBe(15);
    expect(await code('update_subscription', { sid: 1, market_ticker: ticker, action: 'replace' })).toBe(13);
    expect(await code('update_subscription', { sid: 1, action: 'add_markets' })).toBe(14);
    client.ws.send('{not json');
    expect((await client.waitFor((f) => f.type === 'error' && f.id === undefined)).msg!.code).toBe(1);
  });
});

describe('streaming', () => {
  it("at speed 'max' streams the whole session: every frame parses, seq is continuous, replay has no gaps", async () => {
    const server = await serve({ speed: 'max' });
    const client = await connect(server.url);
    client.send('subscribe', { channels: ['orderbook_delta'], market_tickers: server.markets.map((m) => m.ticker) });
    client.send('subscribe', { channels: ['trade'] });
    client.send('subscribe', { channels: ['market_lifecycle_v2'] });
    client.send('subscribe', { channels: ['ticker'], market_ticker: server.markets[0]!.ticker });
    const result = await server.finished;
    expect(result.completed).toBe(true);
    await client.waitFor((f) => f.type === 'market_lifecycle_v2' && f.msg!.event_type === 'settled' && f.msg!.market_ticker === server.markets[2]!.ticker);
    const frames = client.frames();
    expect(frames.filter((f) => f.type === 'orderbook_delta').length).toBeGreaterThan(500);
    expectSeqContinuity(frames);
    const state = new SharedOrderbookState();
    const parsed: KalshiFrame[] = client.texts.map((t) => parseFrame(JSON.parse(t)));
    for (const f of parsed) state.applyFrame(f, undefined);
    expect(state.counters).toMatchObject({ gaps: 0, negative: 0, crossed: 0 });
    const tickers = parsed.filter((f) => f.type === 'ticker');
    expect(tickers.length).toBeGreaterThan(10);
    expect(frames.filter((f) => f.type === 'ticker').every((f) => f.seq === undefined && f.msg!.market_ticker === server.markets[0]!.ticker)).toBe(true);
    const determined = parsed.filter((f) => f.type === 'market_lifecycle_v2' && f.eventType === 'determined');
    expect(determined.map((f) => (f as { result?: string }).result)).toEqual(server.markets.map((m) => result.results[m.ticker]));
  });

  it("at speed 'max' stops generating while a client does not read (backpressure)", async () => {
    const server = await serve({ speed: 'max', highWaterMarkBytes: 1 << 16, config: resolveSimConfig('informed', { seed: 4, markets: 4, durationMs: 30 * 60_000 }) });
    const client = await connect(server.url);
    client.ws.pause();
    client.send('subscribe', { channels: ['orderbook_delta', 'trade'], market_tickers: server.markets.map((m) => m.ticker) });
    let done = false;
    void server.finished.then(() => (done = true));
    // The kernel's socket buffers absorb data first (how much depends on the machine's load): wait until
    // generation stalls, then check that it stays stalled while the client does not read.
    const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
    let stalled = -1;
    for (let i = 0; i < 25 && server.progress.events !== stalled; i++) {
      stalled = server.progress.events;
      await sleep(200);
    }
    await sleep(300);
    expect(done).toBe(false);
    expect(stalled).toBeGreaterThan(0);
    expect(server.progress.events).toBe(stalled);
    expect(server.progress.fraction).toBeLessThan(1);
    client.ws.resume();
    expect((await server.finished).completed).toBe(true);
    expect(server.progress.fraction).toBe(1);
  });

  it('paces virtual time by the speed factor', async () => {
    const server = await serve({ config: resolveSimConfig('calm', { seed: 1, markets: 1, durationMs: 2_000 }), speed: 4 });
    const client = await connect(server.url);
    const t0 = performance.now();
    client.send('subscribe', { channels: ['orderbook_delta'], market_ticker: server.markets[0]!.ticker });
    await server.finished;
    const elapsed = performance.now() - t0;
    // 2 s of exchange time at 4× is 0.5 s of wall time.
    expect(elapsed).toBeGreaterThan(400);
    expect(elapsed).toBeLessThan(1500);
  });

  it('sends ping heartbeats', async () => {
    const server = await serve({ start: 'manual', heartbeatMs: 30 });
    const client = await connect(server.url);
    const payload = await new Promise<string>((resolve) => client.ws.once('ping', (data) => resolve(data.toString())));
    expect(payload).toBe('heartbeat');
  });
});

describe('fault injection', () => {
  async function streaming() {
    const server = await serve({ speed: 20, config: resolveSimConfig('informed', { seed: 2, markets: 2, durationMs: 120_000 }) });
    const client = await connect(server.url);
    client.send('subscribe', { channels: ['orderbook_delta'], market_tickers: server.markets.map((m) => m.ticker) });
    await client.waitFor((f) => f.type === 'orderbook_delta');
    return { server, client };
  }

  it('sequenceGap skips exactly one seq on the subscription', async () => {
    const { server, client } = await streaming();
    const before = client.texts.length;
    expect(server.faults.sequenceGap()).toBe(1);
    await client.waitFor((f) => f.type === 'orderbook_delta', before);
    await client.waitFor((f) => f.type === 'orderbook_delta', client.texts.length);
    const seqs = client.texts.slice(before - 1).map((t) => (JSON.parse(t) as Raw).seq!);
    const jumps = seqs.slice(1).map((s, i) => s - seqs[i]!);
    expect(jumps.filter((j) => j === 2)).toHaveLength(1);
    expect(jumps.every((j) => j === 1 || j === 2)).toBe(true);
  });

  it('bufferOverflow sends error 25 on the sid and ends that subscription', async () => {
    const { server, client } = await streaming();
    expect(server.faults.bufferOverflow()).toBe(1);
    const error = await client.waitFor((f) => f.type === 'error');
    expect(error).toMatchObject({ sid: 1, msg: { code: 25 } });
    const count = client.texts.length;
    await new Promise((r) => setTimeout(r, 150));
    expect(client.texts.length).toBe(count);
    const id = client.send('list_subscriptions');
    expect((await client.waitFor((f) => f.type === 'ok' && f.id === id)).msg).toEqual([]);
  });

  it('disconnect terminates the socket', async () => {
    const { server, client } = await streaming();
    const closed = new Promise<number>((resolve) => client.ws.once('close', (code) => resolve(code)));
    expect(server.faults.disconnect()).toBe(1);
    expect(await closed).toBe(1006);
    expect(server.connections).toBe(0);
  });

  it('malformedFrame sends invalid JSON or a frame with invalid fields', async () => {
    const { server, client } = await streaming();
    server.faults.malformedFrame('json');
    await client.waitFor((f) => f.type === '<invalid json>');
    expect(server.faults.malformedFrame('fields')).toBe(1);
    const bad = await client.waitFor((f) => f.type === 'orderbook_delta' && f.msg!.delta_fp === 'ten');
    expect(() => parseFrame(bad)).toThrow();
  });
});
