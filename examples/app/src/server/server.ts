import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { IncomingMessage, Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { createAdaptorServer } from '@hono/node-server';
import { serveStatic } from '@hono/node-server/serve-static';
import { Hono, type Context } from 'hono';
import { WebSocketServer } from 'ws';
import { z } from 'zod';
import type { ActorRiskLimits } from '@kflow/actor';
import { type IngestDatabase, createModelRegistry, createSessionLoader, listEpisodes, loadEpisodeActions } from '@kflow/ingest';
import { type BookView as Book, isKflowError } from '@kflow/orderbook';
import { createActionSpace, decodeDecision } from '@kflow/paper';
import type { PaperSession } from '../paperTrading';
import { listDecisions } from '../retrain';
import { type ControllerEvent, PaperController, type PaperSource } from './paperController';
import {
  type ActionMessage,
  ActorModeBody,
  ActionsQuery,
  ActorStartBody,
  type BookView,
  type DeployResponse,
  type EpisodeActionsResponse,
  type EpisodeRow,
  type MarketRow,
  type MarketsResponse,
  type ModelDetailResponse,
  type PositionRow,
  type RetrainDecisionView,
  type SessionRow,
  type MetricsView,
  type ModelView,
  type StatusView,
  TrainingStartBody,
  TrainingStopBody,
} from './protocol';
import { StreamHub, type StreamLimits } from './streams';
import { QueueTrainingFeed } from './queueTrainingFeed';
import { TrainingJobs } from './trainingJobs';

export interface ControlServerOptions {
  /** Default 127.0.0.1: nothing outside this machine reaches it unless asked. */
  readonly host?: string;
  /** Default 8787; 0 picks a free port. */
  readonly port?: number;
  /** Bearer token for mutating routes and streams (default `KFLOW_TOKEN`, else a random one). */
  readonly token?: string;
  readonly db: IngestDatabase;
  /** Where the database is, for status (never a connection string). */
  readonly storage: string;
  /** Directory for spill files and trained checkpoints. */
  readonly dir: string;
  /** Where paper sessions get their frames. */
  readonly source: () => Promise<PaperSource>;
  /** The model `POST /rl/actor/start` trades when the body names none. */
  readonly model?: string;
  readonly seed?: number;
  readonly risk?: ActorRiskLimits;
  /** Also sees every actor event (the CLI's own output). */
  readonly onEvent?: (event: ControllerEvent) => void;
  readonly limits?: StreamLimits;
  /** The built dashboard (`index.html` and assets), served at `/`; absent: API only. */
  readonly dashboardDir?: string;
}

export interface ControlServer {
  readonly url: string;
  readonly token: string;
  readonly paper: PaperController;
  readonly training: TrainingJobs;
  readonly hub: StreamHub;
  close(): Promise<void>;
}

/** Levels per side in `GET /rl/orderbook/:ticker`, and in the order-book stream (smaller: it is sent often). */
const LEVELS = 50;
export const STREAM_LEVELS = 20;

/** One market's book as the API shows it (YES view, at most `levels` levels a side). */
export function bookView(book: Book, tsMs: number | null, levels = LEVELS): BookView {
  const bids = [];
  const asks = [];
  for (let i = 0; i < Math.min(levels, book.levelCount('yes')); i++) {
    const p = book.priceAt('yes', i);
    bids.push({ price: p / 10_000, priceUnits: p, size: book.sizeAt('yes', i) / 100 });
  }
  for (let i = 0; i < Math.min(levels, book.levelCount('no')); i++) {
    const p = 10_000 - book.priceAt('no', i);
    asks.push({ price: p / 10_000, priceUnits: p, size: book.sizeAt('no', i) / 100 });
  }
  const bid = book.bestBid('yes');
  const ask = book.bestAsk('yes');
  return {
    ticker: book.ticker,
    version: book.version,
    stale: book.stale,
    bids,
    asks,
    bestBid: bid < 0 ? null : bid / 10_000,
    bestAsk: ask < 0 ? null : ask / 10_000,
    spread: bid < 0 || ask < 0 ? null : (ask - bid) / 10_000,
    mid: bid < 0 || ask < 0 ? null : (bid + ask) / 20_000,
    tsMs,
  };
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

type Status = 400 | 401 | 403 | 404 | 409 | 501;

function fail(c: Context, status: Status, code: string, message: string, field?: string): Response {
  return c.json({ error: { code, message, ...(field === undefined ? {} : { field }) } }, status);
}

/** A validated JSON body, or the 400 that says which field is wrong and why. */
async function body<T extends z.ZodType>(c: Context, schema: T): Promise<z.infer<T> | Response> {
  let raw: unknown = {};
  const text = await c.req.text();
  if (text.trim() !== '') {
    try {
      raw = JSON.parse(text);
    } catch {
      return fail(c, 400, 'INVALID_BODY', 'the body is not valid JSON');
    }
  }
  const parsed = schema.safeParse(raw);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const field = issue.path.join('.') || undefined;
  return fail(c, 400, 'INVALID_BODY', field === undefined ? issue.message : `${field}: ${issue.message}`, field);
}

const ACTION_NAMES = new Map<number, string[]>();
/** The kind names of a setup's actions (cached per size count). */
function actionName(sizes: readonly number[], action: number | null): string | null {
  if (action === null) return null;
  let names = ACTION_NAMES.get(sizes.length);
  if (names === undefined) ACTION_NAMES.set(sizes.length, (names = createActionSpace({ sizesCenti: sizes }).actions.map((a) => (a.sizeIndex < 0 ? a.kind : `${a.kind}×${a.sizeCenti / 100}`))));
  return names[action] ?? String(action);
}

/** An actor or controller event, as `/rl/ws/actions` sends it (`sizes`: the running setup's order sizes, for action names). */
export function actionMessage(e: ControllerEvent, sizes: readonly number[]): ActionMessage {
  switch (e.type) {
    case 'decision': {
      const r = e.record;
      return {
        type: 'decision',
        market: r.market,
        step: r.step,
        tsMs: r.tsMs,
        action: actionName(sizes, r.action)!,
        policyAction: actionName(sizes, r.policyAction),
        override: r.override,
        executed: r.executed,
        order: r.order && { side: r.order.side, price: r.order.priceUnits / 10_000, count: r.order.countCenti / 100, timeInForce: r.order.timeInForce ?? 'good_till_canceled' },
        reject: r.reject,
        modelVersion: r.model.version,
        latencyMicros: r.latencyMicros,
      };
    }
    case 'fill':
      return { type: 'fill', market: e.market, tsMs: e.tsMs, side: e.fill.side, price: e.fill.priceUnits / 10_000, count: e.fill.countCenti / 100, isTaker: e.fill.isTaker, fee: e.feeMicros / 1e6 };
    case 'reload':
      return { type: 'event', event: 'reload', detail: { ...e.reload } };
    case 'refused':
      return { type: 'event', event: 'refused', detail: { ...e.refusal } };
    case 'halt':
      return { type: 'event', event: 'halt', detail: { pnl: e.pnlMicros / 1e6, limit: e.limitMicros / 1e6 } };
    case 'settled':
      return { type: 'event', event: 'settled', detail: { market: e.market, result: e.result, pnl: e.pnlMicros / 1e6 } };
    case 'error':
      return { type: 'event', event: 'error', detail: { message: e.message } };
    default:
      return { type: 'event', event: e.type, detail: e.detail };
  }
}

/** The routes: method, path, what it does, whether it needs the token, and its body's schema. */
const ROUTES: readonly { method: 'get' | 'post'; path: string; summary: string; token?: true; body?: z.ZodType }[] = [
  { method: 'get', path: '/rl/status', summary: 'Collector, actor, model, queues, streams, training, uptime' },
  { method: 'get', path: '/rl/markets', summary: 'Every traded market: best bid/ask, spread, position, PnL, last action' },
  { method: 'get', path: '/rl/orderbook/{ticker}', summary: "One market's book (YES view, 50 levels a side)" },
  { method: 'get', path: '/rl/positions', summary: 'Paper positions (Kalshi shape) with PnL' },
  { method: 'get', path: '/rl/metrics', summary: 'PnL, Sharpe, win rate, decisions, orders, fills, fees, decision latency, queue depths' },
  { method: 'get', path: '/metrics', summary: 'The metrics as Prometheus text' },
  { method: 'get', path: '/rl/sessions', summary: 'Recorded sessions' },
  { method: 'get', path: '/rl/episodes', summary: 'Trading episodes' },
  { method: 'get', path: '/rl/episodes/{id}/actions', summary: "An episode's decisions, paged (?after=STEP&limit=N)" },
  { method: 'get', path: '/rl/models', summary: 'Registered models' },
  { method: 'get', path: '/rl/models/{id}', summary: 'One model and its deployment history' },
  { method: 'post', path: '/rl/models/{id}/deploy', summary: 'Deploy this model version (the actor reloads it)', token: true },
  { method: 'post', path: '/rl/models/{name}/rollback', summary: 'Deploy again the version deployed before the current one', token: true },
  { method: 'post', path: '/rl/actor/start', summary: 'Start paper trading (collector + actor)', token: true, body: ActorStartBody },
  { method: 'post', path: '/rl/actor/stop', summary: 'Stop paper trading (cancel, flush, finish the episode)', token: true },
  { method: 'post', path: '/rl/actor/mode', summary: "Set the mode: 'paper' only ('live' answers 501 LIVE_MODE_FORBIDDEN)", token: true, body: ActorModeBody },
  { method: 'post', path: '/rl/training/start', summary: 'Start a training job in a worker thread', token: true, body: TrainingStartBody },
  { method: 'post', path: '/rl/training/stop', summary: 'Stop a training job', token: true, body: TrainingStopBody },
  { method: 'get', path: '/rl/training', summary: "Training jobs: the server's own and the job queue's" },
  { method: 'get', path: '/rl/training/{id}', summary: 'One training job' },
  { method: 'get', path: '/rl/retrain/decisions', summary: 'Retrain decisions (promoted or refused, with the figures of the gate), newest first' },
];

/** An OpenAPI 3.1 document of the routes, request bodies generated from their zod schemas. */
function openApiDocument(): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of ROUTES) {
    (paths[r.path] ??= {})[r.method] = {
      summary: r.summary,
      ...(r.token ? { security: [{ bearer: [] }] } : {}),
      ...(r.body === undefined ? {} : { requestBody: { required: true, content: { 'application/json': { schema: z.toJSONSchema(r.body) } } } }),
      responses: { default: { description: 'JSON; errors are { error: { code, message, field? } }' } },
    };
  }
  return {
    openapi: '3.1.0',
    info: { title: 'kflow control API', version: '1' },
    components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
    paths,
  };
}

/**
 * The control API and live streams of a paper-trading process (hono on Node's HTTP server, `ws` for the
 * streams): status, markets and books, positions and metrics (also as Prometheus text), recorded sessions,
 * episodes and their decisions, the model registry with deploy and rollback, the actor's start / stop /
 * mode, training jobs in worker threads, and the dashboard's static files. Mutating routes and every
 * stream need the bearer token; bodies are validated; unknown routes answer 404 in JSON.
 */
export async function startControlServer(o: ControlServerOptions): Promise<ControlServer> {
  const token = o.token ?? process.env.KFLOW_TOKEN ?? randomBytes(18).toString('base64url');
  const startedMs = Date.now();
  const registry = createModelRegistry({ db: o.db });
  let session: PaperSession | undefined;
  let unfollow: (() => void) | undefined;
  const hub = new StreamHub(
    (ticker) => {
      const state = session?.collector.state;
      const book = state?.book(ticker);
      return book === undefined ? undefined : bookView(book, state!.lastTsMs ?? null, STREAM_LEVELS);
    },
    o.limits,
    { actions: (e: ControllerEvent) => actionMessage(e, session?.actor.tradingSetup?.sizesCenti ?? [100]) },
  );
  // The actor's events as they are: turned into messages when the stream flushes, off its decision path.
  const publishActorEvent = (e: ControllerEvent): void => hub.publish('actions', e);
  const paper = new PaperController({
    db: o.db,
    spillDir: o.dir,
    source: o.source,
    model: o.model,
    seed: o.seed ?? 1,
    ...(o.risk === undefined ? {} : { risk: o.risk }),
    onEvent: (e) => {
      publishActorEvent(e);
      o.onEvent?.(e);
    },
    onSession: (s) => {
      unfollow?.();
      session = s;
      unfollow = s.collector.state.subscribe((ticker) => hub.bookChanged(ticker));
    },
  });
  const training = new TrainingJobs({ db: o.db, dir: o.dir, publish: (m) => hub.publish('training', m) });
  const queueTraining = new QueueTrainingFeed(o.db, (m) => hub.publish('training', m));

  const app = new Hono();
  const requireToken = async (c: Context, next: () => Promise<void>): Promise<Response | void> => {
    const header = c.req.header('authorization');
    if (header === undefined) return fail(c, 401, 'UNAUTHORIZED', 'this route needs the bearer token: Authorization: Bearer <token>');
    if (!header.startsWith('Bearer ') || !sameToken(header.slice(7), token)) return fail(c, 403, 'FORBIDDEN', 'wrong token');
    await next();
  };

  const marketRows = (): MarketRow[] => {
    const s = session;
    if (s === undefined) return [];
    return s.actor.marketStatus().map((m) => {
      const book = s.collector.state.book(m.ticker);
      const view = book && bookView(book, null);
      return {
        ticker: m.ticker,
        bestBid: view?.bestBid ?? null,
        bestAsk: view?.bestAsk ?? null,
        spread: view?.spread ?? null,
        stale: m.stale,
        position: m.positionCenti / 100,
        pnl: m.pnlMicros / 1e6,
        lastAction: m.lastAction ?? null,
        modelVersion: m.modelVersion ?? null,
        decisions: m.decisions,
        settled: m.settled,
      };
    });
  };

  const metrics = (): MetricsView => {
    const s = session;
    const summary = s?.actor.summary();
    const pnls = s === undefined ? [] : s.actor.marketStatus().map((m) => m.pnlMicros / 1e6);
    const traded = pnls.filter((p) => p !== 0);
    const mean = pnls.length > 0 ? pnls.reduce((a, b) => a + b, 0) / pnls.length : 0;
    const std = pnls.length > 1 ? Math.sqrt(pnls.reduce((a, b) => a + (b - mean) ** 2, 0) / pnls.length) : 0;
    const latency = summary?.decisionLatencyMicros;
    const finite = (x: number | undefined) => (x === undefined || Number.isNaN(x) ? null : Math.round(x * 10) / 10);
    return {
      pnl: (summary?.pnlMicros ?? 0) / 1e6,
      sharpe: std > 0 ? mean / std : 0,
      winRate: traded.length > 0 ? traded.filter((p) => p > 0).length / traded.length : 0,
      decisions: summary?.decisions ?? 0,
      orders: summary?.orders ?? 0,
      fills: summary?.fills ?? 0,
      fees: (summary?.feesPaidMicros ?? 0) / 1e6,
      decisionLatencyMicros: { p50: finite(latency?.p50), p99: finite(latency?.p99), max: finite(latency?.max) },
      queueDepths: { marketData: s?.collector.status().queue?.pending ?? 0, actions: s?.actionMetrics().pending ?? 0 },
    };
  };

  const status = (): StatusView => {
    const s = session;
    const running = paper.session !== undefined;
    const collected = s?.collector.status();
    const summary = s?.actor.summary();
    const q = (m: { pending: number; written: number; lagMs: number } | undefined) => (m === undefined ? null : { pending: m.pending, written: m.written, lagMs: m.lagMs });
    return {
      uptimeMs: Date.now() - startedMs,
      mode: 'paper',
      storage: o.storage,
      collector: {
        running,
        connected: running && (collected?.connected ?? false),
        sessionId: collected?.sessionId ?? null,
        frames: collected?.counts.frames ?? 0,
        gaps: collected?.counts.gaps ?? 0,
        reconnects: collected?.counts.reconnects ?? 0,
      },
      actor: {
        running,
        model: summary?.model ?? null,
        decisions: summary?.decisions ?? 0,
        markets: summary?.markets ?? 0,
        halted: summary?.halted ?? false,
        episodeId: s?.episodeId ?? null,
        refusals: (summary?.refusals ?? []).map((r) => ({ version: r.version, reason: r.reason })),
        reloads: (summary?.reloads ?? []).map((r) => ({ version: r.version, loadMs: Math.round(r.loadMs * 10) / 10, deployToFirstDecisionMs: r.deployToFirstDecisionMs })),
      },
      queues: { marketData: q(collected?.queue), actions: q(s?.actionMetrics()) },
      streams: { clients: hub.clients, disconnectedSlow: hub.disconnectedSlow },
      training: { running: training.running },
    };
  };

  const modelView = (m: Awaited<ReturnType<typeof registry.get>>): ModelView => ({
    id: m.id,
    name: m.name,
    version: m.version,
    status: m.status,
    architecture: m.architecture,
    featureSetVersion: m.featureSetVersion,
    checkpointPath: m.checkpointPath,
    performance: m.performance,
    createdMs: m.createdMs,
  });

  app.onError((error, c) => {
    if (isKflowError(error)) {
      const status: Status =
        error.code.endsWith('NOT_FOUND') ? 404 : error.code === 'LIVE_MODE_FORBIDDEN' ? 501 : ['ACTOR_RUNNING', 'ACTOR_NOT_RUNNING', 'JOB_NOT_RUNNING', 'MODEL_NOT_DEPLOYABLE', 'NO_PREVIOUS_DEPLOYMENT', 'NO_DEPLOYED_MODEL', 'MODEL_REFUSED', 'NO_SESSIONS'].includes(error.code) ? 409 : 400;
      return fail(c, status, error.code, error.message);
    }
    return c.json({ error: { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error) } }, 500);
  });
  app.notFound((c) => fail(c, 404, 'NOT_FOUND', `no route ${c.req.method} ${c.req.path}`));

  app.get('/rl/status', (c) => c.json(status()));
  app.get('/rl/markets', (c) => c.json({ markets: marketRows() } satisfies MarketsResponse));
  app.get('/rl/orderbook/:ticker', (c) => {
    const ticker = c.req.param('ticker');
    const book = session?.collector.state.book(ticker);
    if (book === undefined) return fail(c, 404, 'UNKNOWN_MARKET', `no book for ${ticker}`);
    return c.json(bookView(book, session!.collector.state.lastTsMs ?? null));
  });
  app.get('/rl/positions', (c) => {
    const s = session;
    if (s === undefined) return c.json({ positions: [] });
    const positions = s.actor.paper.getPositions({ settlement_status: 'all' });
    const pnl = new Map(s.actor.marketStatus().map((m) => [m.ticker, m.pnlMicros / 1e6]));
    return c.json({ positions: positions.ok ? positions.body.market_positions.map((p) => ({ ...p, pnl: pnl.get(p.ticker) ?? 0 })) : [] } satisfies { positions: PositionRow[] });
  });
  app.get('/rl/metrics', (c) => c.json(metrics()));
  app.get('/metrics', (c) => {
    const m = metrics();
    const lines = [
      ['kflow_pnl_dollars', 'gauge', 'PnL over all markets, marked to mid, fees included', m.pnl],
      ['kflow_sharpe', 'gauge', 'mean over standard deviation of the per-market PnL', m.sharpe],
      ['kflow_win_rate', 'gauge', 'share of traded markets with a positive PnL', m.winRate],
      ['kflow_decisions_total', 'counter', 'decisions of the actor', m.decisions],
      ['kflow_orders_total', 'counter', 'orders accepted by the paper client', m.orders],
      ['kflow_fills_total', 'counter', 'fills of our orders', m.fills],
      ['kflow_fees_dollars_total', 'counter', 'fees paid', m.fees],
      ['kflow_stream_clients', 'gauge', 'WebSocket clients', hub.clients],
    ] as const;
    let text = '';
    for (const [name, type, help, value] of lines) text += `# HELP ${name} ${help}\n# TYPE ${name} ${type}\n${name} ${value}\n`;
    text += '# HELP kflow_decision_latency_microseconds book event in to order accepted\n# TYPE kflow_decision_latency_microseconds summary\n';
    for (const [q, v] of [['0.5', m.decisionLatencyMicros.p50], ['0.99', m.decisionLatencyMicros.p99]] as const) {
      if (v !== null) text += `kflow_decision_latency_microseconds{quantile="${q}"} ${v}\n`;
    }
    text += '# HELP kflow_queue_depth rows waiting for the database\n# TYPE kflow_queue_depth gauge\n';
    text += `kflow_queue_depth{queue="market_data"} ${m.queueDepths.marketData}\nkflow_queue_depth{queue="actions"} ${m.queueDepths.actions}\n`;
    return c.text(text, 200, { 'content-type': 'text/plain; version=0.0.4' });
  });
  app.get('/rl/retrain/decisions', async (c) => c.json({ decisions: await listDecisions({ db: o.db }) } satisfies { decisions: RetrainDecisionView[] }));
  app.get('/rl/sessions', async (c) => c.json({ sessions: await createSessionLoader({ db: o.db }).list() } satisfies { sessions: SessionRow[] }));
  app.get('/rl/episodes', async (c) => c.json({ episodes: await listEpisodes(o.db) } satisfies { episodes: EpisodeRow[] }));
  app.get('/rl/episodes/:id/actions', async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id)) return fail(c, 400, 'INVALID_PARAMETER', 'episode id must be an integer', 'id');
    const query = ActionsQuery.safeParse(c.req.query());
    if (!query.success) {
      const issue = query.error.issues[0]!;
      return fail(c, 400, 'INVALID_PARAMETER', `${issue.path.join('.')}: ${issue.message}`, issue.path.join('.'));
    }
    const rows = await loadEpisodeActions(o.db, id, { afterStep: query.data.after, limit: query.data.limit });
    const actions = rows.map((r) => {
      const d = decodeDecision(r.details, r.executionResult);
      return { step: r.step, market: d.market, marketStep: d.step, tsMs: d.tsMs, action: d.action, policyAction: d.policyAction, override: d.override, executed: d.executed, order: d.order, reject: d.reject, model: d.model, latencyMicros: d.latencyMicros, outcome: d.outcome };
    });
    return c.json({ actions, next: rows.length === query.data.limit ? rows[rows.length - 1]!.step : null } satisfies EpisodeActionsResponse);
  });
  app.get('/rl/models', async (c) => c.json({ models: (await registry.list()).map(modelView) }));
  app.get('/rl/models/:id', async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id)) return fail(c, 400, 'INVALID_PARAMETER', 'model id must be an integer', 'id');
    const model = await registry.get(id);
    const deployments = (await registry.deployments(model.name)).map((d) => ({ id: d.id, version: d.model.version, action: d.action, deployedMs: d.deployedMs }));
    return c.json({ model: modelView(model), deployments } satisfies ModelDetailResponse);
  });
  app.post('/rl/models/:id/deploy', requireToken, async (c) => {
    const id = Number(c.req.param('id'));
    if (!Number.isSafeInteger(id)) return fail(c, 400, 'INVALID_PARAMETER', 'model id must be an integer', 'id');
    const model = await registry.get(id);
    const d = await registry.deploy(model.name, model.version);
    return c.json({ deployment: { id: d.id, action: d.action, deployedMs: d.deployedMs, model: modelView(d.model) } } satisfies DeployResponse);
  });
  app.post('/rl/models/:name/rollback', requireToken, async (c) => {
    const d = await registry.rollback(c.req.param('name')!);
    return c.json({ deployment: { id: d.id, action: d.action, deployedMs: d.deployedMs, model: modelView(d.model) } } satisfies DeployResponse);
  });
  app.post('/rl/actor/start', requireToken, async (c) => {
    const b = await body(c, ActorStartBody);
    if (b instanceof Response) return b;
    await paper.start(b.model);
    return c.json(status());
  });
  app.post('/rl/actor/stop', requireToken, async (c) => {
    const report = await paper.stop();
    return c.json({ sessionId: report.sessionId, episodeId: report.episodeId, decisions: report.actor.decisions, pnl: report.actor.pnlMicros / 1e6 });
  });
  app.post('/rl/actor/mode', requireToken, async (c) => {
    const b = await body(c, ActorModeBody);
    if (b instanceof Response) return b;
    if (b.mode === 'paper') return c.json({ mode: 'paper' });
    if (b.mode === 'live') return fail(c, 501, 'LIVE_MODE_FORBIDDEN', 'kflow trades on paper only: live trading is not supported', 'mode');
    return fail(c, 400, 'INVALID_BODY', `mode: unknown mode ${JSON.stringify(b.mode)} (the only mode is "paper")`, 'mode');
  });
  app.post('/rl/training/start', requireToken, async (c) => {
    const b = await body(c, TrainingStartBody);
    if (b instanceof Response) return b;
    return c.json(await training.start(b), 202);
  });
  app.post('/rl/training/stop', requireToken, async (c) => {
    const b = await body(c, TrainingStopBody);
    if (b instanceof Response) return b;
    return c.json(await training.stop(b.id));
  });
  app.get('/rl/training', (c) => c.json({ jobs: [...training.list(), ...queueTraining.list()] }));
  app.get('/openapi.json', (c) => c.json(openApiDocument()));
  app.get('/rl/training/:id', (c) => c.json(queueTraining.get(c.req.param('id')) ?? training.get(c.req.param('id'))));
  if (o.dashboardDir !== undefined && existsSync(o.dashboardDir)) {
    const root = o.dashboardDir;
    app.use('/*', serveStatic({ root }));
    app.get('/*', serveStatic({ root, rewriteRequestPath: () => '/index.html' }));
  }

  const server = createAdaptorServer({ fetch: app.fetch, hostname: o.host ?? '127.0.0.1' }) as Server;
  const wss = new WebSocketServer({ noServer: true, handleProtocols: (protocols) => (protocols.has('kflow') ? 'kflow' : false) });
  const STREAMS = new Set(['/rl/ws/orderbook', '/rl/ws/actions', '/rl/ws/training']);
  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    const refuse = (code: number, reason: string) => {
      socket.end(`HTTP/1.1 ${code} ${reason}\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n${JSON.stringify({ error: { code: reason.toUpperCase().replaceAll(' ', '_'), message: reason } })}`);
    };
    if (!STREAMS.has(path)) return refuse(404, 'Not Found');
    // Browsers cannot set headers on a WebSocket: the token rides as a subprotocol `bearer.<token>`.
    const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
    const bearer = offered.find((p) => p.startsWith('bearer.'))?.slice(7) ?? request.headers.authorization?.replace(/^Bearer /, '');
    if (bearer === undefined) return refuse(401, 'Unauthorized');
    if (!sameToken(bearer, token)) return refuse(403, 'Forbidden');
    wss.handleUpgrade(request, socket, head, (ws) => {
      if (path === '/rl/ws/orderbook') hub.addBookClient(ws);
      else hub.addQueueClient(path === '/rl/ws/actions' ? 'actions' : 'training', ws);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 8787, o.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${host}:${address.port}`,
    token,
    paper,
    training,
    hub,
    async close() {
      hub.close();
      await training.close();
      await queueTraining.close();
      if (paper.session !== undefined) await paper.stop();
      unfollow?.();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
