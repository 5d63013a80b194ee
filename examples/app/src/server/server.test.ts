import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type IngestDatabase, migrate, openPglite } from '@kflow/ingest';
import { resolveSimConfig } from '@kflow/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { registerCheckpoint } from '../commands/models';
import { trainTestModel } from '../paperTrading.testing';
import { startSimExchange } from '../simExchange';
import type { ActionMessage, BookView, EpisodeRow, MarketRow, MetricsView, OrderbookMessage, StatusView, TrainingJobView, TrainingMessage } from './protocol';
import { type ControlServer, startControlServer } from './server';
import { SLOW_CONSUMER_CLOSE } from './streams';

let dir: string;
let db: IngestDatabase;
let server: ControlServer;
const versions: { id: number; version: number }[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-server-'));
  await Promise.all([trainTestModel(join(dir, 'v1'), 1), trainTestModel(join(dir, 'v2'), 2)]);
  db = await openPglite();
  await migrate(db);
  for (const v of ['v1', 'v2']) versions.push((await registerCheckpoint(db, join(dir, v), 'api', { deploy: v === 'v1' })).model);
  server = await startControlServer({
    db,
    storage: 'pglite:memory',
    dir,
    port: 0,
    token: 'test-token',
    model: 'api',
    // An hour of simulated trading at 20×: the session outlives the tests that need it trading.
    source: async () => {
      const { server: exchange, signer } = await startSimExchange(resolveSimConfig('informed', { seed: 41, markets: 5, durationMs: 60 * 60_000 }), 20);
      return { url: exchange.url, signer, environment: 'sim', markets: exchange.markets.map((m) => m.ticker), server: exchange };
    },
    limits: { maxQueuedMessages: 200, highWaterBytes: 16 * 1024 },
  });
}, 120_000);
afterAll(async () => {
  await server?.close();
  await db?.close();
  await rm(dir, { recursive: true, force: true });
});

const AUTH = { authorization: 'Bearer test-token' };
async function call(method: 'GET' | 'POST', path: string, options: { body?: unknown; raw?: string; headers?: Record<string, string> } = {}) {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...options.headers },
    ...(options.raw !== undefined ? { body: options.raw } : options.body === undefined ? {} : { body: JSON.stringify(options.body) }),
  });
  const text = await response.text();
  return { status: response.status, text, json: (text.startsWith('{') ? JSON.parse(text) : undefined) as Record<string, unknown> & { error?: { code: string; field?: string; message: string } } };
}

async function until<T>(what: string, probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 30_000): Promise<T> {
  const start = performance.now();
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A stream client; `messages` collects every parsed message. */
function stream<M>(path: string, protocols: string[] = ['kflow', 'bearer.test-token']): Promise<{ ws: WebSocket; messages: M[] }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`${server.url.replace('http', 'ws')}${path}`, protocols);
    const messages: M[] = [];
    // Queued streams send arrays of messages per frame; the order-book stream one message per frame.
    ws.on('message', (data) => {
      const parsed = JSON.parse(String(data)) as M | M[];
      if (Array.isArray(parsed)) messages.push(...parsed);
      else messages.push(parsed);
    });
    ws.once('open', () => resolve({ ws, messages }));
    ws.once('unexpected-response', (_, response) => reject(new Error(`HTTP ${response.statusCode}`)));
    ws.once('error', reject);
  });
}

describe('the control API on loopback', () => {
  it('binds 127.0.0.1 by default and answers unknown routes with 404 in JSON', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const r = await call('GET', '/rl/nope');
    expect(r.status).toBe(404);
    expect(r.json.error).toMatchObject({ code: 'NOT_FOUND' });
    expect(r.text).not.toContain('test-token');
  });

  it('describes itself as OpenAPI 3.1, request bodies from the zod schemas', async () => {
    const doc = (await call('GET', '/openapi.json')).json as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: { 'application/json': { schema: { properties: Record<string, unknown>; required?: string[] } } } } }>> };
    expect(doc.openapi).toBe('3.1.0');
    expect(Object.keys(doc.paths)).toContain('/rl/models/{id}/deploy');
    const schema = doc.paths['/rl/training/start']!['post']!.requestBody!.content['application/json'].schema;
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['timesteps', 'seed', 'sessions', 'register']));
    expect(schema.required).toContain('timesteps');
  });

  it('mutating routes need the bearer token: 401 without, 403 with a wrong one', async () => {
    for (const [method, path, body] of [
      ['POST', '/rl/actor/start', {}],
      ['POST', '/rl/actor/stop', {}],
      ['POST', '/rl/actor/mode', { mode: 'paper' }],
      ['POST', `/rl/models/${versions[1]!.id}/deploy`, {}],
      ['POST', '/rl/models/api/rollback', {}],
      ['POST', '/rl/training/start', { timesteps: 4096 }],
      ['POST', '/rl/training/stop', { id: 'x' }],
    ] as const) {
      expect((await call(method, path, { body })).status, path).toBe(401);
      const wrong = await call(method, path, { body, headers: { authorization: 'Bearer nope' } });
      expect(wrong.status, path).toBe(403);
      expect(wrong.json.error?.code).toBe('FORBIDDEN');
    }
  });

  it('refuses live mode with 501 LIVE_MODE_FORBIDDEN and invalid bodies with 400 naming the field', async () => {
    const live = await call('POST', '/rl/actor/mode', { body: { mode: 'live' }, headers: AUTH });
    expect(live.status).toBe(501);
    expect(live.json.error).toMatchObject({ code: 'LIVE_MODE_FORBIDDEN', field: 'mode' });
    expect((await call('POST', '/rl/actor/mode', { body: { mode: 'paper' }, headers: AUTH })).json).toEqual({ mode: 'paper' });
    const wrongType = await call('POST', '/rl/actor/mode', { body: { mode: 5 }, headers: AUTH });
    expect(wrongType.status).toBe(400);
    expect(wrongType.json.error).toMatchObject({ code: 'INVALID_BODY', field: 'mode' });
    const notJson = await call('POST', '/rl/actor/mode', { raw: '{mode:', headers: AUTH });
    expect(notJson.status).toBe(400);
    expect(notJson.json.error?.message).toMatch(/not valid JSON/);
    const extra = await call('POST', '/rl/training/start', { body: { timesteps: 10 }, headers: AUTH });
    expect(extra.json.error).toMatchObject({ code: 'INVALID_BODY', field: 'timesteps' });
    const unknownField = await call('POST', '/rl/actor/start', { body: { model: 'api', speed: 3 }, headers: AUTH });
    expect(unknownField.status).toBe(400);
  });

  it('streams need the token too: 401 without, 403 with a wrong one', async () => {
    await expect(stream('/rl/ws/actions', ['kflow'])).rejects.toThrow(/HTTP 401/);
    await expect(stream('/rl/ws/actions', ['kflow', 'bearer.nope'])).rejects.toThrow(/HTTP 403/);
    await expect(stream('/rl/ws/elsewhere')).rejects.toThrow(/HTTP 404/);
  });

  it('starts the actor, then serves status, markets, books, positions, metrics (JSON and Prometheus) and the streams', async () => {
    const actions = await stream<ActionMessage>('/rl/ws/actions');
    const started = await call('POST', '/rl/actor/start', { body: {}, headers: AUTH });
    expect(started.status).toBe(200);
    expect((started.json as unknown as StatusView).actor).toMatchObject({ running: true });
    expect((await call('POST', '/rl/actor/start', { body: {}, headers: AUTH })).json.error?.code).toBe('ACTOR_RUNNING');

    const status = await until('decisions', async () => {
      const s = (await call('GET', '/rl/status')).json as unknown as StatusView;
      return s.actor.decisions > 20 ? s : undefined;
    });
    expect(status).toMatchObject({ mode: 'paper', collector: { running: true, connected: true }, actor: { running: true, model: { name: 'api', version: 1 }, markets: 5 } });
    const markets = (await call('GET', '/rl/markets')).json['markets'] as MarketRow[];
    expect(markets).toHaveLength(5);
    const ticker = markets[0]!.ticker;
    const book = (await call('GET', `/rl/orderbook/${ticker}`)).json as unknown as BookView;
    expect(book.ticker).toBe(ticker);
    expect(book.bids.length).toBeGreaterThan(0);
    expect(book.bestBid).toBe(book.bids[0]!.price);
    expect(book.bestBid!).toBeLessThan(book.bestAsk!);
    expect((await call('GET', '/rl/orderbook/NOPE')).json.error?.code).toBe('UNKNOWN_MARKET');
    expect(Array.isArray((await call('GET', '/rl/positions')).json['positions'])).toBe(true);
    const metrics = (await call('GET', '/rl/metrics')).json as unknown as MetricsView;
    expect(metrics.decisions).toBeGreaterThan(20);
    expect(metrics.decisionLatencyMicros.p99).toBeGreaterThan(0);
    const prometheus = await call('GET', '/metrics');
    expect(prometheus.text).toMatch(/^kflow_decisions_total \d+$/m);
    expect(prometheus.text).toMatch(/kflow_decision_latency_microseconds\{quantile="0.99"\} [\d.]+/);

    // The actions stream: every decision, with its shape.
    const decision = await until('a decision on the stream', () => actions.messages.find((m) => m.type === 'decision'));
    expect(decision).toMatchObject({ type: 'decision', market: expect.any(String), step: expect.any(Number), action: expect.any(String), modelVersion: 1 });
    expect(actions.messages.some((m) => m.type === 'event' && m.event === 'started')).toBe(true);
    actions.ws.close();

    // The order-book stream: a snapshot, then updates at most 10 per second per market.
    const books = await stream<OrderbookMessage>('/rl/ws/orderbook');
    books.ws.send(JSON.stringify({ type: 'subscribe', tickers: [ticker] }));
    const snapshot = await until('the snapshot', () => books.messages.find((m) => m.type === 'snapshot'));
    expect(snapshot).toMatchObject({ type: 'snapshot', book: { ticker } });
    await new Promise((r) => setTimeout(r, 2000));
    const updates = books.messages.filter((m) => m.type === 'book');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.length).toBeLessThanOrEqual(21); // ≤ 10 per second over ~2 s
    books.ws.send('not json');
    await until('the error reply', () => books.messages.find((m) => m.type === 'error'));
    books.ws.close();
  }, 60_000);

  it('a client that never reads is disconnected; the others and the actor go on', async () => {
    const reader = await stream<ActionMessage>('/rl/ws/actions');
    const stalled = await stream<ActionMessage>('/rl/ws/actions');
    // Stop reading at the TCP level: the server's buffer for it fills, then its queue.
    (stalled.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const closed = new Promise<number>((resolve) => stalled.ws.once('close', (code) => resolve(code)));
    const before = (await call('GET', '/rl/status')).json as unknown as StatusView;
    // Enough traffic to fill the socket buffers of a client that does not read (~10 MB), at a rate a
    // reading client absorbs.
    const filler = 'x'.repeat(1000);
    for (let burst = 0; burst < 40 && server.hub.disconnectedSlow === 0; burst++) {
      for (let i = 0; i < 500; i++) server.hub.publish('actions', { type: 'event', event: 'error', detail: { filler } });
      await new Promise((r) => setTimeout(r, 30));
    }
    await until('the slow client dropped', () => (server.hub.disconnectedSlow > 0 ? true : undefined), 10_000);
    // It reads again: what it finds at the end of its backlog is the close frame that says why.
    (stalled.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    expect(await closed).toBe(SLOW_CONSUMER_CLOSE);
    const after = await until('more decisions', async () => {
      const s = (await call('GET', '/rl/status')).json as unknown as StatusView;
      return s.actor.decisions > before.actor.decisions ? s : undefined;
    });
    expect(after.streams.disconnectedSlow).toBe(1); // only the client that does not read
    const n = reader.messages.length;
    await until('more messages for the reader', () => (reader.messages.length > n ? true : undefined));
    reader.ws.close();
  }, 60_000);

  it('deploys and rolls back models through the API; the actor reloads each', async () => {
    const deployed = await call('POST', `/rl/models/${versions[1]!.id}/deploy`, { body: {}, headers: AUTH });
    expect(deployed.status).toBe(200);
    await until('v2 trading', async () => (((await call('GET', '/rl/status')).json as unknown as StatusView).actor.model?.version === 2 ? true : undefined));
    const back = await call('POST', '/rl/models/api/rollback', { body: {}, headers: AUTH });
    expect(back.json).toMatchObject({ deployment: { action: 'rollback', model: { version: 1 } } });
    await until('v1 trading again', async () => (((await call('GET', '/rl/status')).json as unknown as StatusView).actor.model?.version === 1 ? true : undefined));
    const models = (await call('GET', '/rl/models')).json['models'] as { id: number; status: string }[];
    expect(models.map((m) => m.status)).toEqual(['deployed', 'ready']);
    const one = await call('GET', `/rl/models/${versions[0]!.id}`);
    expect((one.json['deployments'] as unknown[]).length).toBe(3);
    expect((await call('GET', '/rl/models/999')).status).toBe(404);
    expect((await call('GET', '/rl/models/x')).json.error).toMatchObject({ field: 'id' });
    expect((await call('POST', '/rl/models/nothing/rollback', { body: {}, headers: AUTH })).status).toBe(409);
  }, 60_000);

  it('stops the actor; sessions, episodes and their decisions (paged) are served', async () => {
    // While it runs, the episode's row counts the decisions logged so far and names the model trading.
    const running = await until('the running episode to list logged decisions', async () => {
      const [e] = (await call('GET', '/rl/episodes')).json['episodes'] as EpisodeRow[];
      return e !== undefined && e.endedMs === null && e.steps > 0 && e.latestModel !== null ? e : undefined;
    });
    const trading = ((await call('GET', '/rl/status')).json as unknown as StatusView).actor.model;
    expect(running.latestModel).toMatchObject({ name: trading?.name, version: trading?.version });
    const stopped = await call('POST', '/rl/actor/stop', { body: {}, headers: AUTH });
    expect(stopped.status).toBe(200);
    expect(stopped.json).toMatchObject({ decisions: expect.any(Number), episodeId: expect.any(Number) });
    expect((await call('POST', '/rl/actor/stop', { body: {}, headers: AUTH })).json.error?.code).toBe('ACTOR_NOT_RUNNING');
    const sessions = (await call('GET', '/rl/sessions')).json['sessions'] as { id: string; status: string }[];
    expect(sessions[0]).toMatchObject({ id: stopped.json['sessionId'], status: 'completed' });
    const episodes = (await call('GET', '/rl/episodes')).json['episodes'] as EpisodeRow[];
    expect(episodes[0]).toMatchObject({ id: stopped.json['episodeId'], mode: 'paper', steps: stopped.json['decisions'] });
    const first = (await call('GET', `/rl/episodes/${episodes[0]!.id}/actions?limit=5`)).json as { actions: { step: number }[]; next: number };
    expect(first.actions.map((a) => a.step)).toEqual([0, 1, 2, 3, 4]);
    const second = (await call('GET', `/rl/episodes/${episodes[0]!.id}/actions?limit=5&after=${first.next}`)).json as { actions: { step: number }[] };
    expect(second.actions[0]!.step).toBe(5);
    expect((await call('GET', `/rl/episodes/${episodes[0]!.id}/actions?limit=0`)).json.error).toMatchObject({ code: 'INVALID_PARAMETER', field: 'limit' });
  }, 60_000);

  it('runs a training job in a worker thread, streams its progress and registers the result', async () => {
    const training = await stream<TrainingMessage>('/rl/ws/training');
    const started = await call('POST', '/rl/training/start', { body: { timesteps: 4096, seed: 3, register: 'api' }, headers: AUTH });
    expect(started.status).toBe(202);
    const job = started.json as unknown as TrainingJobView;
    expect(job).toMatchObject({ state: 'running', timesteps: 4096 });
    const done = await until('the job to end', async () => {
      const view = (await call('GET', `/rl/training/${job.id}`)).json as unknown as TrainingJobView;
      return view.state === 'running' ? undefined : view;
    }, 60_000);
    expect(done.state, String(done.error)).toBe('completed');
    expect(done.result).toMatchObject({ registered: { name: 'api', version: 3 } });
    // The stream flushes every 50 ms: wait for the job's last status there too.
    await until('the completed status on the stream', () => (training.messages.some((m) => m.type === 'status' && m.job.state === 'completed') ? true : undefined));
    expect(training.messages.some((m) => m.type === 'progress' && m.jobId === job.id && m.progress.timesteps > 0)).toBe(true);
    expect(training.messages.find((m) => m.type === 'eval')).toMatchObject({ jobId: job.id, episodes: 20, meanPnl: expect.any(Number) });
    expect((await call('POST', '/rl/training/stop', { body: { id: job.id }, headers: AUTH })).json.error?.code).toBe('JOB_NOT_RUNNING');
    expect((await call('GET', '/rl/training/none')).status).toBe(404);
    training.ws.close();
  }, 90_000);
});
