/**
 * Paper-trades the deployed version of a registered model on live order books, logging every decision,
 * until Ctrl-C (or --duration seconds); then prints the run's summary as one JSON line. Deploying another
 * version meanwhile (examples/trainer.ts --deploy) hot-swaps the model at the next decision.
 *
 * - Models: the registry in PostgreSQL when DATABASE_URL is set, otherwise in PGlite in --data-dir.
 * - Books: Kalshi production when KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH are set (pass the tickers
 *   with --markets), otherwise kflow's market simulator on loopback (--speed × real time).
 * - Orders never leave the process: kflow's paper client fills them against the live books.
 *
 * Run from the repository root, after examples/collector.ts and examples/trainer.ts --deploy:
 *   node --conditions=@kflow/source --import tsx examples/paper-trader.ts
 *   node --conditions=@kflow/source --import tsx examples/paper-trader.ts --model kflow-ppo --sim-markets 4 --speed 30
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { createActor, createRegistryModelSource } from '@kflow/actor';
import { loadPolicy, readCheckpoint } from '@kflow/agents';
import {
  ActionWriteQueue,
  type KalshiSigner,
  createCollector,
  createKalshiSigner,
  createModelRegistry,
  finishEpisode,
  migrate,
  openPglite,
  startEpisode,
} from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { createRng, systemClock } from '@kflow/orderbook';
import { type ExchangeServer, resolveSimConfig, startLocalExchange } from '@kflow/sim';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: './kflow-data' },
    model: { type: 'string', default: 'kflow-ppo' },
    markets: { type: 'string' },
    duration: { type: 'string' },
    'sim-markets': { type: 'string', default: '3' },
    'sim-minutes': { type: 'string', default: '30' },
    'sim-seed': { type: 'string', default: '2' },
    speed: { type: 'string', default: '10' },
  },
});

const db = process.env.DATABASE_URL ? await connectPostgres({ url: process.env.DATABASE_URL }) : await openPglite({ dataDir: args['data-dir'] });
await migrate(db);

// The model: the current deployment of --model, then every deploy and rollback (hot reload).
const models = createRegistryModelSource({
  registry: createModelRegistry({ db }),
  name: args.model,
  load: async (checkpointPath) => {
    const policy = loadPolicy(await readCheckpoint(checkpointPath));
    if (policy.trading === undefined) throw new Error(`${checkpointPath} was not trained on the Kalshi env`);
    return { policy, setup: policy.trading };
  },
});

// The books: Kalshi with credentials, else the simulator's exchange with a throwaway RSA key.
let url: string;
let signer: KalshiSigner;
let markets: string[];
let sim: ExchangeServer | undefined;
if (process.env.KALSHI_API_KEY_ID && process.env.KALSHI_PRIVATE_KEY_PATH) {
  url = 'production';
  signer = await createKalshiSigner({ apiKeyId: process.env.KALSHI_API_KEY_ID, privateKeyPath: process.env.KALSHI_PRIVATE_KEY_PATH });
  markets = (args.markets ?? '').split(',').filter(Boolean);
  if (markets.length === 0) throw new Error('pass the Kalshi tickers to trade: --markets T1,T2');
} else {
  const local = await startLocalExchange({
    config: resolveSimConfig('informed', { seed: Number(args['sim-seed']), markets: Number(args['sim-markets']), durationMs: Number(args['sim-minutes']) * 60_000 }),
    speed: Number(args.speed),
  });
  sim = local.server;
  url = sim.url;
  signer = await createKalshiSigner(local.credentials);
  markets = sim.markets.map((m) => m.ticker);
}

// The collector keeps the live books (and records the session, so the run can be audited against it).
const spillDir = args['data-dir'];
const collector = createCollector({
  url,
  signer,
  markets,
  db,
  environment: sim === undefined ? 'production' : 'sim',
  queue: { spillPath: join(spillDir, 'kflow-spill.jsonl') },
  rng: createRng(Number(process.hrtime.bigint() % 1_000_000n)),
  clock: systemClock,
});

// The actor trades on the collector's books; every decision goes to the episode's action log.
const episodeId = await startEpisode(db, { market: '*', markets, mode: 'paper', startedMs: systemClock.now(), sessionId: collector.sessionId });
const actions = new ActionWriteQueue({ db, spillPath: join(spillDir, 'kflow-actions-spill.jsonl'), clock: systemClock });
const actor = createActor({ mode: 'paper', state: collector.state, models, markets, rng: createRng(1), log: actions, episodeId, clock: systemClock });
await actor.start(); // before the collector: the actor must see every market from its first snapshot
collector.client.addSink((frame) => actor.handleFrame(frame)); // settlements reach the paper account
await collector.start();
console.error(`paper trading ${markets.join(', ')} with ${args.model} (episode ${episodeId}); Ctrl-C stops`);

const status = setInterval(() => {
  const s = actor.summary();
  console.error(`${s.decisions} decisions, ${s.orders} orders, ${s.fills} fills, PnL $${(s.pnlMicros / 1e6).toFixed(4)}`);
}, 5000);
await new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
  if (args.duration !== undefined) setTimeout(resolve, Number(args.duration) * 1000).unref();
  void sim?.finished.then(() => setTimeout(resolve, 500));
});
clearInterval(status);

// Stop the books first (no more frames), then the actor (open orders canceled), then flush the log.
const collected = await collector.stop();
const summary = await actor.stop();
const logged = await actions.close();
let positionCenti = 0;
for (const m of actor.marketStatus()) positionCenti += Math.abs(m.positionCenti);
await finishEpisode(db, episodeId, {
  endedMs: systemClock.now(),
  totalReward: summary.pnlMicros / 1e6,
  steps: summary.decisions,
  finalPositionCenti: positionCenti,
  summary: { ...summary, sessionId: collector.sessionId },
});
await sim?.close();
await db.close();

console.log(
  JSON.stringify({
    episodeId,
    sessionId: collected.sessionId,
    modelVersions: summary.modelVersions,
    decisions: summary.decisions,
    orders: summary.orders,
    fills: summary.fills,
    feesPaid: summary.feesPaidMicros / 1e6,
    pnl: summary.pnlMicros / 1e6,
    actionRows: logged.written,
    actionRowsDropped: logged.dropped,
  }),
);
