import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ActorEvent, type ActorPolicy, type ModelSource, type ReloadReport, createActor, createRegistryModelSource, createStaticModelSource } from '@kflow/actor';
import { type Checkpoint, type InferencePolicy, createCheckpoint, loadPolicy, readCheckpoint, trainPpo, writeCheckpoint } from '@kflow/agents';
import { SyncVectorEnv, createKalshiEnv, createSyntheticSession } from '@kflow/env';
import { type IngestDatabase, type ModelRegistry, createCollector, createModelRegistry, migrate, openPglite } from '@kflow/ingest';
import { type Rng, type SharedOrderbookState, createRng, createSharedOrderbookState } from '@kflow/orderbook';
import type { TradingSetup } from '@kflow/paper';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { WebSocketServer } from 'ws';
import { STREAM_LEVELS, actionMessage, bookView } from '../server/server';
import { StreamHub } from '../server/streams';
import type { Benchmark } from './harness';
import { createSyntheticFeed, discardDatabase } from './fixtures';

const START_MS = 1_782_000_000_000;
const CADENCE_MS = 100;
/** Markets of the decision-latency and reload benchmarks. */
const MARKETS = 100;
/** Markets of the throughput benchmarks. */
const MANY_MARKETS = 1000;
/** Deltas and trades (after the snapshots) of the throughput benchmarks. */
const THROUGHPUT_EVENTS = 200_000;
/** Exchange time of the throughput benchmarks: 100 events per ms, the feed rate of the 100,000 events/s target. */
const THROUGHPUT_EVENTS_PER_MS = 100;
/** Deltas and trades of the decision-latency benchmark, 1 ms of exchange time each (~1 decision per event). */
const DECISION_EVENTS = 30_000;
/** Live feed of the reload benchmark: events per wall ms over all markets (3 per market per 100 ms). */
const RELOAD_EVENTS_PER_MS = 3;
/** Trading before the deployment in the reload benchmark, ms. */
const RELOAD_WARM_MS = 500;
const RELOAD_TIMEOUT_MS = 10_000;
const MODEL_NAME = 'bench-actor';
/** Stream clients of the backpressure benchmark, and how often its feed yields to the event loop. */
const STREAM_CLIENTS = 20;
const STREAM_YIELD_EVERY = 100;
const STREAM_PAIRS = 3;


/** A recorded stream: frames and their receive times (= exchange times). */
interface Recording {
  readonly lines: readonly string[];
  readonly recvMs: Float64Array;
  /** Snapshots, deltas and trades (the frames minus the two subscription acks). */
  readonly bookEvents: number;
}

/** `events` deltas and trades after the snapshots; exchange time advances 1 ms per `eventsPerMs` events. */
function record(markets: number, events: number, eventsPerMs: number, seed: number): Recording {
  const feed = createSyntheticFeed(markets, createRng(seed));
  const lines = feed.start();
  const header = lines.length;
  for (let i = 0; i < events; i++) lines.push(feed.next(START_MS + 1 + Math.floor(i / eventsPerMs)));
  const recvMs = new Float64Array(lines.length);
  for (let i = 0; i < lines.length; i++) recvMs[i] = i < header ? START_MS : START_MS + 1 + Math.floor((i - header) / eventsPerMs);
  return { lines, recvMs, bookEvents: lines.length - 2 };
}

let throughputRecording: Recording | undefined;
/** The throughput benchmarks' frames (generated once: the actor and collector-only runs feed the same). */
function throughputFrames(): Recording {
  throughputRecording ??= record(MANY_MARKETS, THROUGHPUT_EVENTS, THROUGHPUT_EVENTS_PER_MS, 11);
  return throughputRecording;
}

// ── Collector and model ─────────────────────────────────────────────────────────────────────────────

/** The collector's socket handler and sink on `state` (books, row building, enqueue), minus the socket. */
function benchCollector(state: SharedOrderbookState) {
  return createCollector({
    url: 'ws://127.0.0.1:1/trade-api/ws/v2',
    markets: [],
    state,
    db: discardDatabase,
    queue: { maxPendingRows: 10_000_000 },
    sessionId: 'bench',
    rng: createRng(1),
  });
}

/** Throws unless every book stayed sane (the generator's promise: never crossed, never negative). */
function checkBooks(state: SharedOrderbookState): void {
  const { crossed, negative, gaps } = state.counters;
  if (crossed !== 0 || negative !== 0 || gaps !== 0) throw new Error(`synthetic feed broke the books: ${crossed} crossed, ${negative} negative, ${gaps} gaps`);
}

const checkpoints = new Map<number, Checkpoint>();
/**
 * A tiny PPO (2,048 steps, 64×64) trained on a synthetic session with the benchmarks' trading setup
 * (cadence 100 ms, 1-contract orders, |position| ≤ 1 contract); trained once per seed and process.
 */
function trainedCheckpoint(seed: number): Checkpoint {
  let checkpoint = checkpoints.get(seed);
  if (checkpoint === undefined) {
    const session = createSyntheticSession({ seed, markets: 2, eventsPerMarket: 3000 });
    const env = createKalshiEnv({ sessions: [session], cadence: { everyMs: CADENCE_MS }, sizesCenti: [100], positionLimitCenti: 100, episodeSteps: 200 });
    const envs = new SyncVectorEnv([() => env]);
    const result = trainPpo({
      envs,
      totalTimesteps: 2048,
      seed,
      featureSetVersion: env.metadata.featureSetVersion,
      nSteps: 512,
      batchSize: 128,
      policy: { hiddenSizes: [64, 64] },
    });
    envs.close();
    checkpoint = createCheckpoint(result, { envId: 'kalshi', trading: env.setup });
    checkpoints.set(seed, checkpoint);
  }
  return checkpoint;
}

/** A checkpoint directory read into what the actor trades with. */
async function loadModel(path: string): Promise<{ policy: InferencePolicy; setup: TradingSetup }> {
  const policy = loadPolicy(await readCheckpoint(path));
  return { policy, setup: policy.trading! };
}

function staticSource(policy: ActorPolicy, setup: TradingSetup): ModelSource {
  return createStaticModelSource({ id: 'bench', name: MODEL_NAME, version: 1, policy, setup });
}

/**
 * The real policy's inference (its cost is part of every decision), then a seeded-random allowed action
 * instead of its choice: a trained policy mostly holds, and the latency benchmark needs orders.
 */
function withRandomActions(policy: InferencePolicy, rng: Rng): ActorPolicy {
  return {
    observationSize: policy.observationSize,
    actionCount: policy.actionCount,
    featureSetVersion: policy.featureSetVersion,
    act(observation, mask) {
      const chosen = policy.act(observation, mask);
      if (mask === undefined) return chosen;
      let allowed = 0;
      for (let i = 0; i < mask.length; i++) allowed += mask[i]!;
      let k = rng.int(allowed);
      for (let i = 0; i < mask.length; i++) if (mask[i] === 1 && k-- === 0) return i;
      return chosen;
    },
  };
}

// ── Runs ────────────────────────────────────────────────────────────────────────────────────────────

/** WebSocket clients of a `StreamHub` fed by one set of books and an actor's events (the control server's streams). */
interface StreamClients {
  publish(event: ActorEvent): void;
  close(): Promise<void>;
}

/** The stream clients of the backpressure benchmark, as browsers are: another process. */
const CLIENTS_SCRIPT = `
import { WebSocket } from 'ws';
const [port, count] = process.argv.slice(1).map(Number);
const sockets = [];
for (let i = 0; i < count; i++) {
  const book = i % 2 === 1;
  const ws = new WebSocket('ws://127.0.0.1:' + port + '/' + (book ? 'book' : 'actions'));
  await new Promise((resolve, reject) => ws.once('open', resolve).once('error', reject));
  if (book) ws.send(JSON.stringify({ type: 'subscribe', tickers: ['*'] }));
  if (i === 0) ws._socket.pause(); // never reads
  else ws.on('message', () => {});
  sockets.push(ws);
}
process.stdout.write('ready\\n');
`;

/**
 * `count` stream clients in a child process on loopback: half follow every order book, half the action
 * feed; the first action client never reads (its socket is paused), so the hub must bound and drop it.
 */
async function attachStreamClients(books: SharedOrderbookState, count: number): Promise<StreamClients> {
  const hub = new StreamHub(
    (ticker) => {
      const book = books.book(ticker);
      return book === undefined ? undefined : bookView(book, books.lastTsMs ?? null, STREAM_LEVELS);
    },
    {},
    { actions: (e: ActorEvent) => actionMessage(e, [100]) },
  );
  const unfollow = books.subscribe((ticker) => hub.bookChanged(ticker));
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  wss.on('connection', (ws, request) => (request.url === '/book' ? hub.addBookClient(ws) : hub.addQueueClient('actions', ws)));
  await new Promise((resolve) => wss.once('listening', resolve));
  const { port } = wss.address() as AddressInfo;
  const clients = spawn(process.execPath, ['--input-type=module', '-e', CLIENTS_SCRIPT, String(port), String(count)], { cwd: import.meta.dirname, stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    clients.stdout.once('data', () => resolve());
    clients.once('exit', (code) => reject(new Error(`the stream clients exited with code ${code}`)));
  });
  return {
    publish: (event) => hub.publish('actions', event),
    async close() {
      clients.kill('SIGKILL');
      unfollow();
      hub.close();
      await new Promise((resolve) => wss.close(resolve));
    },
  };
}

/**
 * The actor's own latency (book event in → order accepted) of each decision that sent an accepted
 * order, µs. With `streamClients`, that many WebSocket clients follow the books and the actions meanwhile;
 * `yieldEvery` gives the event loop (stream flushes, socket writes) a turn every that many frames.
 */
async function decisionMicros(state: { recording: Recording; policy: InferencePolicy; run: number }, streamClients = 0, yieldEvery = 0): Promise<number[]> {
  const { recording, policy } = state;
  const books = createSharedOrderbookState();
  const micros: number[] = [];
  const streams = streamClients > 0 ? await attachStreamClients(books, streamClients) : undefined;
  const actor = createActor({
    mode: 'paper',
    state: books,
    models: staticSource(withRandomActions(policy, createRng(100 + state.run++)), policy.trading!),
    rng: createRng(2),
    onEvent: (e: ActorEvent) => {
      if (e.type === 'decision' && e.record.order !== null && e.record.executed) micros.push(e.record.latencyMicros);
      streams?.publish(e);
    },
  });
  await actor.start(); // before any frame: each market is traded from its first snapshot
  const collector = benchCollector(books);
  try {
    const { lines, recvMs } = recording;
    const client = collector.client;
    for (let i = 0; i < lines.length; i++) {
      client.handleMessage(lines[i]!, recvMs[i]!);
      if (yieldEvery > 0 && i % yieldEvery === yieldEvery - 1) await new Promise((resolve) => setImmediate(resolve));
    }
    checkBooks(books);
  } finally {
    await collector.stop();
    await actor.stop();
    await streams?.close();
  }
  if (micros.length < 1000) throw new Error(`only ${micros.length} decisions sent an accepted order (need 1,000)`);
  return micros;
}

function p99(micros: readonly number[]): number {
  const sorted = Float64Array.from(micros).sort();
  return sorted[Math.floor(0.99 * (sorted.length - 1))]!;
}

/** Book events per second through the collector's handler, with the actor (real policy) on the same books or without. */
async function eventsPerSec(policy: InferencePolicy | undefined): Promise<number> {
  const { lines, recvMs, bookEvents } = throughputFrames();
  const books = createSharedOrderbookState();
  const actor = policy === undefined ? undefined : createActor({ mode: 'paper', state: books, models: staticSource(policy, policy.trading!), markets: 'all', rng: createRng(2) });
  await actor?.start();
  const collector = benchCollector(books);
  let secondsTaken: number;
  try {
    const client = collector.client;
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < lines.length; i++) client.handleMessage(lines[i]!, recvMs[i]!);
    secondsTaken = Number(process.hrtime.bigint() - t0) / 1e9;
    checkBooks(books);
  } finally {
    await collector.stop();
    await actor?.stop();
  }
  if (actor !== undefined) {
    const { decisions, markets } = actor.summary();
    if (decisions === 0 || markets !== MANY_MARKETS) throw new Error(`the actor made ${decisions} decisions on ${markets} markets`);
  }
  return bookEvents / secondsTaken;
}

interface ReloadState {
  readonly dir: string;
  readonly db: IngestDatabase;
  readonly registry: ModelRegistry;
  deployed: number;
  run: number;
}

async function reloadSetup(): Promise<ReloadState> {
  const dir = await mkdtemp(join(tmpdir(), 'kflow-bench-actor-'));
  let db: IngestDatabase | undefined;
  try {
    db = await openPglite();
    await migrate(db);
    const registry = createModelRegistry({ db });
    for (const version of [1, 2]) {
      const checkpoint = trainedCheckpoint(version - 1);
      const checkpointPath = join(dir, `v${version}`);
      await writeCheckpoint(checkpointPath, checkpoint);
      await registry.register({ name: MODEL_NAME, architecture: 'mlp', checkpointPath, featureSetVersion: checkpoint.manifest.featureSetVersion, status: 'ready' });
    }
    await registry.deploy(MODEL_NAME, 1);
    return { dir, db, registry, deployed: 1, run: 0 };
  } catch (error) {
    await db?.close();
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const wallMs = () => Math.floor(performance.timeOrigin + performance.now());

/**
 * Wall time from a registry deployment to the new model's first decision (the actor's report), with the
 * actor trading a live feed whose exchange time is the wall clock. Alternates between v1 and v2.
 */
async function deployToDecisionMs(state: ReloadState): Promise<number> {
  const books = createSharedOrderbookState();
  let settle: { resolve(r: ReloadReport): void; reject(e: Error): void } | undefined;
  const reloaded = new Promise<ReloadReport>((resolve, reject) => (settle = { resolve, reject }));
  const actor = createActor({
    mode: 'paper',
    state: books,
    models: createRegistryModelSource({ registry: state.registry, name: MODEL_NAME, load: loadModel }),
    rng: createRng(2),
    onEvent: (e: ActorEvent) => {
      if (e.type === 'reload') settle?.resolve(e.reload);
      else if (e.type === 'refused') settle?.reject(new Error(`v${e.refusal.version} refused: ${e.refusal.reason}`));
    },
  });
  await actor.start();
  const collector = benchCollector(books);
  const feed = createSyntheticFeed(MARKETS, createRng(200 + state.run++));
  let feeding = true;
  // The live feed: bursts stamped with the wall clock, small sleeps between them (the model load and
  // the registry's NOTIFY run there).
  const pump = (async () => {
    const client = collector.client;
    for (const line of feed.start()) client.handleMessage(line, wallMs());
    const t0 = wallMs();
    let sent = 0;
    while (feeding) {
      const now = wallMs();
      for (const due = (now - t0) * RELOAD_EVENTS_PER_MS; sent < due; sent++) client.handleMessage(feed.next(now), now);
      await sleep(1);
    }
  })();
  let timeout: ReturnType<typeof setTimeout> | undefined;
  try {
    await sleep(RELOAD_WARM_MS);
    const version = state.deployed === 1 ? 2 : 1;
    await state.registry.deploy(MODEL_NAME, version);
    state.deployed = version;
    const late = new Promise<never>((_, reject) => {
      timeout = setTimeout(() => reject(new Error(`no reload within ${RELOAD_TIMEOUT_MS / 1000} s of deploying v${version}`)), RELOAD_TIMEOUT_MS);
    });
    const report = await Promise.race([reloaded, late]);
    if (report.version !== version) throw new Error(`reloaded v${report.version}, deployed v${version}`);
    if (report.missedTicks !== 0) throw new Error(`${report.missedTicks} ticks missed during the reload`);
    if (report.deployToFirstDecisionMs === null) throw new Error('the reload reported no first decision');
    checkBooks(books);
    return report.deployToFirstDecisionMs;
  } finally {
    clearTimeout(timeout);
    feeding = false;
    await pump;
    await collector.stop();
    await actor.stop();
  }
}

export const actorBenchmarks: readonly Benchmark[] = [
  {
    name: 'actor.decision.p99Micros',
    description: `99th percentile of the actor's decision latency: book event in → order accepted by the paper client, ${MARKETS} markets, cadence ${CADENCE_MS} ms, random allowed actions after a real inference (tiny trained PPO), decisions that sent an accepted order only (${DECISION_EVENTS.toLocaleString('en-US')} events fed through the collector's handler, 1 ms of exchange time each)`,
    better: 'lower',
    target: 1000,
    setup: () => ({ recording: record(MARKETS, DECISION_EVENTS, 1, 7), policy: loadPolicy(trainedCheckpoint(0)), run: 0 }),
    run: async (state) => p99(await decisionMicros(state as { recording: Recording; policy: InferencePolicy; run: number })),
  },
  {
    name: 'server.streamClients.decisionP99Ratio',
    description: `actor.decision.p99Micros with ${STREAM_CLIENTS} WebSocket clients (another process, on loopback; half follow every order book, half the action feed, one of which never reads) ÷ the same without clients; each run measures ${STREAM_PAIRS} pairs, alternating which goes first, and takes p99 over each side's pooled decisions; the feed yields to the event loop every ${STREAM_YIELD_EVERY} frames in both so the streams really run`,
    better: 'lower',
    target: 1.1,
    warmupRuns: 1,
    runs: 5,
    setup: () => ({ recording: record(MARKETS, DECISION_EVENTS, 1, 7), policy: loadPolicy(trainedCheckpoint(0)), run: 0 }),
    async run(raw) {
      // Three pairs, alternating which goes first; p99 over each side's pooled decisions.
      const state = raw as { recording: Recording; policy: InferencePolicy; run: number };
      const without: number[] = [];
      const withClients: number[] = [];
      for (let pair = 0; pair < STREAM_PAIRS; pair++) {
        const clientsFirst = (state.run + pair) % 2 === 0;
        for (const clients of clientsFirst ? [STREAM_CLIENTS, 0] : [0, STREAM_CLIENTS]) {
          (clients > 0 ? withClients : without).push(...(await decisionMicros(state, clients, STREAM_YIELD_EVERY)));
        }
      }
      return p99(withClients) / p99(without);
    },
  },
  {
    name: 'ingest.handler.eventsPerSec',
    description: `Book events per second through the collector's socket handler without an actor (the baseline of actor.eventsPerSec: same ${MANY_MARKETS.toLocaleString('en-US')} markets, same ${(THROUGHPUT_EVENTS + MANY_MARKETS).toLocaleString('en-US')} frames)`,
    better: 'higher',
    warmupRuns: 1,
    runs: 3,
    setup: () => throughputFrames(),
    run: () => eventsPerSec(undefined),
  },
  {
    name: 'actor.eventsPerSec',
    description: `Book events per second through the collector's socket handler with the actor trading all ${MANY_MARKETS.toLocaleString('en-US')} markets (real trained policy, cadence ${CADENCE_MS} ms; ${(THROUGHPUT_EVENTS + MANY_MARKETS).toLocaleString('en-US')} frames, exchange time 1 ms per ${THROUGHPUT_EVENTS_PER_MS} events, i.e. paced at 100,000 events/s: ~0.1 decision per event)`,
    better: 'higher',
    target: 100_000,
    baseline: 'ingest.handler.eventsPerSec',
    warmupRuns: 1,
    runs: 3,
    setup: () => loadPolicy(trainedCheckpoint(0)),
    run: (policy) => eventsPerSec(policy as InferencePolicy),
  },
  {
    name: 'actor.reload.deployToDecisionMs',
    description: `Hot reload: registry deploy (PGlite, LISTEN/NOTIFY) → the new model's first decision, wall ms, ${MARKETS} markets on a live feed paced to the wall clock, cadence ${CADENCE_MS} ms (so the figure includes waiting for the next decision tick, up to ${CADENCE_MS} ms; a market decides a tick at its first event past it, so with ${MARKETS} markets one is usually due within a few ms), 0 missed ticks; alternates v1/v2`,
    better: 'lower',
    target: 1000,
    warmupRuns: 1,
    runs: 5,
    setup: () => reloadSetup(),
    run: (state) => deployToDecisionMs(state as ReloadState),
    async teardown(state) {
      const { db, dir } = state as ReloadState;
      await db.close();
      await rm(dir, { recursive: true, force: true });
    },
  },
];
