import { join, resolve } from 'node:path';
import type { CAC } from 'cac';
import {
  type Policy,
  type TrainingEvent,
  type TrainResult,
  createCheckpoint,
  createHoldPolicy,
  createKalshiHeuristicPolicy,
  createRandomPolicy,
  evaluateKalshi,
  trainPpo,
  writeCheckpoint,
} from '@kflow/agents';
import { type MarketPool, SyncVectorEnv, createKalshiEnv, createMarketPool } from '@kflow/env';
import {
  type CollectorStatus,
  type IngestDatabase,
  createCollector,
  createModelRegistry,
  createSessionLoader,
} from '@kflow/ingest';
import { type SessionData, createRng, systemClock } from '@kflow/orderbook';
import { type ExchangeServer, resolveSimConfig } from '@kflow/sim';
import { KALSHI_DEMO_TRAINING } from '../kalshiTraining';
import { formatTable, printJson } from '../output';
import { startSimExchange } from '../simExchange';
import { ensureDashboard } from '../server/dashboard';
import { PaperController, type PaperSource } from '../server/paperController';
import { type ControlServer, startControlServer } from '../server/server';
import { type AuditResult, describeMismatch, runAudit } from './audit';
import { openStorage } from './collect';
import { registerCheckpoint } from './models';
import { type PaperSummary, paperSummary } from './paper';
import { type KalshiEvalSummary, toEvalSummary } from './eval';
import { progressLine } from './train';

/** The demo's size: small enough for a few minutes on 2 cores, large enough for PPO to learn the simulator's edge. */
export interface DemoOptions {
  /** PGlite data directory (created under the working directory by default). */
  readonly dataDir: string;
  readonly seed: number;
  /** Simulated markets per session (training and held-out sessions each). */
  readonly markets: number;
  /** Simulated minutes per session. */
  readonly minutes: number;
  readonly timesteps: number;
  readonly evalEpisodes: number;
  /** Simulated minutes of the closing paper-trading session. */
  readonly paperMinutes: number;
  /** Serve the control API and dashboard during the paper session, and after the demo until Ctrl-C. */
  readonly ui?: boolean;
  readonly json: boolean;
}

/** Default demo size (the README's `pnpm demo`). */
export const DEMO_DEFAULTS = { markets: 24, minutes: 15, timesteps: KALSHI_DEMO_TRAINING.totalTimesteps, evalEpisodes: 200, paperMinutes: 5 } as const;

const DEMO_PRESET = 'informed';
const MODEL_NAME = 'kflow-demo';

/** Everything the demo measured, in one object (`--json` prints it). */
export interface DemoReport {
  readonly storage: string;
  readonly sessions: readonly { role: 'train' | 'held-out'; id: string; seed: number; markets: number; events: number; frames: number; rowsWritten: number; gaps: number }[];
  readonly training: { timesteps: number; seconds: number; sps: number; firstReturns: number; lastReturns: number };
  readonly evaluation: readonly KalshiEvalSummary[];
  readonly model: { name: string; version: number; status: string; checkpointPath: string };
  /** The second version, deployed in the middle of the paper session. */
  readonly reloadModel: { name: string; version: number; timesteps: number; seed: number };
  /** The paper-trading run on a further held-out session, through the exchange server. */
  readonly paper: PaperSummary & { readonly simSeed: number; readonly minutes: number };
  /** The live-equals-backtest audit of that run. */
  readonly audit: AuditResult;
}

/** When the running demo started (set by `runDemo`). */
let started = 0;

/** A progress line on stderr, stamped with the seconds since the demo started. */
function log(o: DemoOptions, text: string): void {
  if (!o.json) process.stderr.write(`${`${((performance.now() - started) / 1000).toFixed(0)} s`.padStart(6)}  ${text}\n`);
}

/**
 * Collects one simulated session through the real collector: a Kalshi-protocol exchange on loopback that
 * checks the RSA-PSS handshake, the authenticated WebSocket client, the shared books and the write queue
 * into the database. It ends when the collector has seen every market settle.
 */
async function collectSession(db: IngestDatabase, seed: number, o: DemoOptions, spillPath: string): Promise<CollectorStatus> {
  const config = resolveSimConfig(DEMO_PRESET, { seed, markets: o.markets, durationMs: o.minutes * 60_000 });
  const { server, signer } = await startSimExchange(config, 'max');
  const markets = server.markets.map((m) => m.ticker);
  const collector = createCollector({
    url: server.url,
    signer,
    markets,
    db,
    environment: 'sim',
    queue: { spillPath },
    rng: createRng(seed),
    clock: systemClock,
  });
  const unsettled = new Set(markets);
  const allSettled = new Promise<void>((done) => {
    collector.client.addSink((frame) => {
      if (frame.type === 'market_lifecycle_v2' && frame.eventType === 'settled' && unsettled.delete(frame.ticker) && unsettled.size === 0) done();
    });
  });
  await collector.start();
  // The exchange stops once every market settled; the collector is done when it has received those frames.
  await Promise.race([allSettled, server.finished.then(() => allSettled)]);
  const status = await collector.stop();
  await server.close();
  return status;
}

function eventsOf(session: SessionData): number {
  return session.markets.reduce((sum, m) => sum + m.length, 0);
}

/**
 * Runs the whole pipeline and returns what it measured. `whileServing` runs with the report while the
 * `--ui` server is still up (the CLI prints and waits for Ctrl-C there).
 */
export async function runDemo(o: DemoOptions, whileServing?: (report: DemoReport) => Promise<void>): Promise<DemoReport> {
  started = performance.now();
  const storage = await openStorage({ dataDir: o.dataDir });
  let ui: ControlServer | undefined;
  try {
    log(o, `kflow demo: simulated Kalshi exchange → collector → PGlite (${storage.where}) → PPO → held-out evaluation → paper trading with a hot reload → audit. Paper only.`);

    // 1. Collect a training session and a held-out session (another simulator seed: other markets).
    const seeds = { train: o.seed, heldOut: o.seed + 1000 };
    const collected: { role: 'train' | 'held-out'; seed: number; status: CollectorStatus }[] = [];
    for (const [role, seed] of [['train', seeds.train], ['held-out', seeds.heldOut]] as const) {
      log(o, `[1/7] collecting the ${role} session: preset ${DEMO_PRESET}, seed ${seed}, ${o.markets} markets × ${o.minutes} simulated minutes ...`);
      const status = await collectSession(storage.db, seed, o, join(storage.dir, 'kflow-spill.jsonl'));
      collected.push({ role, seed, status });
      log(o, `      session ${status.sessionId}: ${status.counts.frames} frames, ${status.queue?.written ?? 0} rows written, ${status.counts.gaps} gaps`);
    }

    // 2. Load both sessions back from the database (one query per table) into the env's columnar format.
    log(o, '[2/7] loading sessions from the database ...');
    const loader = createSessionLoader({ db: storage.db });
    const loaded = await Promise.all(collected.map((c) => loader.load(c.status.sessionId)));
    const [trainSession, heldOutSession] = loaded as [SessionData, SessionData];
    const trainPool = createMarketPool([trainSession]);
    const heldOutPool = createMarketPool([heldOutSession]);

    // 3. Train PPO on the training session's markets.
    log(o, `[3/7] training PPO for ${o.timesteps} steps on ${trainPool.markets.length} markets (${KALSHI_DEMO_TRAINING.nEnvs} envs) ...`);
    const metadata = createKalshiEnv({ sessions: trainPool, ...KALSHI_DEMO_TRAINING.env }).metadata;
    const returns: number[] = [];
    const result = train(trainPool, o.timesteps, o.seed, o.json, returns);
    const tenth = Math.max(1, Math.floor(returns.length / 10));

    // 4. Evaluate on the held-out markets against the baselines (same env settings, same episode seeds).
    log(o, `[4/7] evaluating on ${heldOutPool.markets.length} held-out markets, ${o.evalEpisodes} episodes per policy ...`);
    const evalEnv = () => createKalshiEnv({ sessions: heldOutPool, ...KALSHI_DEMO_TRAINING.env });
    const policies: [string, Policy][] = [
      ['ppo', result.policy],
      ['random', createRandomPolicy({ actionCount: metadata.actionCount, observationSize: metadata.observationSize, featureSetVersion: metadata.featureSetVersion, rng: createRng(o.seed + 7) })],
      ['hold', createHoldPolicy({ actionCount: metadata.actionCount, observationSize: metadata.observationSize, featureSetVersion: metadata.featureSetVersion })],
      ['heuristic', createKalshiHeuristicPolicy(metadata)],
    ];
    const evaluation = policies.map(([name, policy]) => toEvalSummary(name, evaluateKalshi(policy, evalEnv(), o.evalEpisodes, { seed: o.seed + 50_000 })));

    // 5. Save the checkpoint (with its trading setup) and register it; train and register a second version.
    const ppo = evaluation[0]!;
    const save = async (r: TrainResult<object>, tag: string): Promise<string> => {
      const path = resolve(storage.dir, 'models', `${MODEL_NAME}-${trainSession.id}${tag}`);
      await writeCheckpoint(path, createCheckpoint(r, { envId: 'kalshi', trading: metadata.setup, training: { sessions: [trainSession.id], kalshiEnv: KALSHI_DEMO_TRAINING.env } }));
      return path;
    };
    const checkpointPath = await save(result, '');
    const { model } = await registerCheckpoint(storage.db, checkpointPath, MODEL_NAME, {
      performance: { heldOutSession: heldOutSession.id, meanPnl: ppo.meanPnl, sharpe: ppo.sharpe, episodes: ppo.episodes },
    });
    log(o, `[5/7] registered ${model.name} v${model.version} (status ${model.status}) at ${checkpointPath}`);
    const second = { seed: o.seed + 1, timesteps: Math.max(2048, Math.round(o.timesteps / 3)) };
    log(o, `      training a second version (PPO seed ${second.seed}, ${second.timesteps} steps) to hot-reload during paper trading ...`);
    const secondResult = train(trainPool, second.timesteps, second.seed, true, []);
    const { model: reloadModel } = await registerCheckpoint(storage.db, await save(secondResult, `-seed${second.seed}`), MODEL_NAME);
    log(o, `      registered ${reloadModel.name} v${reloadModel.version}`);

    // 6. Paper trade v1 on a further held-out session, live through the exchange server; deploy v2 halfway.
    const paperSeed = o.seed + 2000;
    log(o, `[6/7] paper trading ${MODEL_NAME} v${model.version} live on a new simulated session (seed ${paperSeed}, ${o.markets} markets × ${o.paperMinutes} min); v${reloadModel.version} is deployed halfway ...`);
    const registry = createModelRegistry({ db: storage.db });
    await registry.deploy(MODEL_NAME, model.version);
    const { summary: paper, server } = await paperTrade(storage, paperSeed, o, () => registry.deploy(MODEL_NAME, reloadModel.version));
    ui = server;
    for (const r of paper.reloads) log(o, `      hot reload to v${r.version}: loaded in ${r.loadMs} ms, first decision ${r.deployToFirstDecisionMs} ms after the deploy, ${r.missedTicks} ticks missed`);
    log(o, `      ${paper.decisions} decisions, ${paper.orders} orders, ${paper.fills} fills, PnL $${paper.pnl.toFixed(4)} after $${paper.feesPaid.toFixed(4)} fees`);

    // 7. Audit: replay the recorded session through the env with the same models, decision by decision.
    log(o, '[7/7] auditing the paper session: live decisions vs. a replay of its recording through the env ...');
    const audit = await runAudit(storage.db, { session: paper.sessionId, episode: String(paper.episodeId) });
    log(o, `      ${audit.decisions} decisions compared, ${audit.mismatches} mismatches${audit.firstMismatch === null ? '' : ` (first: ${describeMismatch(audit.firstMismatch)})`}\n`);

    const report: DemoReport = {
      storage: storage.where,
      sessions: collected.map((c, i) => ({
        role: c.role,
        id: c.status.sessionId,
        seed: c.seed,
        markets: loaded[i]!.markets.length,
        events: eventsOf(loaded[i]!),
        frames: c.status.counts.frames,
        rowsWritten: c.status.queue?.written ?? 0,
        gaps: c.status.counts.gaps,
      })),
      training: {
        timesteps: result.timesteps,
        seconds: Math.round(result.seconds * 10) / 10,
        sps: Math.round(result.timesteps / result.seconds),
        firstReturns: mean(returns.slice(0, tenth)),
        lastReturns: mean(returns.slice(-tenth)),
      },
      evaluation,
      model: { name: model.name, version: model.version, status: model.status, checkpointPath },
      reloadModel: { name: reloadModel.name, version: reloadModel.version, ...second },
      paper: { ...paper, simSeed: paperSeed, minutes: o.paperMinutes },
      audit,
    };
    if (ui !== undefined) await whileServing?.(report);
    return report;
  } finally {
    await ui?.close();
    await storage.db.close();
  }
}

/** PPO with the recommended Kalshi setup on `pool` (a progress bar on a terminal unless `quiet`). */
function train(pool: MarketPool, timesteps: number, seed: number, quiet: boolean, returns: number[]): TrainResult<object> {
  const envs = new SyncVectorEnv(Array.from({ length: KALSHI_DEMO_TRAINING.nEnvs }, () => () => createKalshiEnv({ sessions: pool, ...KALSHI_DEMO_TRAINING.env })));
  const bar = quiet || !process.stderr.isTTY ? undefined : progressLine(timesteps);
  const onEvent = (event: TrainingEvent) => {
    if (event.kind === 'episode') returns.push(event.metrics['charts/episodic_return']!);
    else bar?.update(event.timesteps, mean(returns.slice(-50)), event.metrics['charts/SPS']);
  };
  const featureSetVersion = createKalshiEnv({ sessions: pool, ...KALSHI_DEMO_TRAINING.env }).metadata.featureSetVersion;
  const result = trainPpo({ envs, totalTimesteps: timesteps, seed, clock: systemClock, onEvent, featureSetVersion, ...KALSHI_DEMO_TRAINING.ppo, policy: KALSHI_DEMO_TRAINING.policy });
  bar?.done();
  envs.close();
  return result;
}

/**
 * A paper session on a new simulated market session (collector + actor through a `PaperController`, as
 * `kflow paper` runs it): `deploySecond` runs when half the session has streamed. With `server`, the
 * control API and dashboard drive it, so a browser can watch.
 */
async function paperTrade(
  storage: { db: IngestDatabase; dir: string; where: string },
  seed: number,
  o: DemoOptions,
  deploySecond: () => Promise<unknown>,
): Promise<{ summary: PaperSummary; server: ControlServer | undefined }> {
  const config = resolveSimConfig(DEMO_PRESET, { seed, markets: o.markets, durationMs: o.paperMinutes * 60_000 });
  let exchange: ExchangeServer | undefined;
  // Paced (the session takes about 8 s), not as fast as possible: a live session, where a deployment
  // reaches the actor while the market is still trading.
  const source = async (): Promise<PaperSource> => {
    const { server, signer } = await startSimExchange(config, Math.max(1, Math.round((o.paperMinutes * 60) / 8)));
    exchange = server;
    return { url: server.url, signer, environment: 'sim', markets: server.markets.map((m) => m.ticker), server };
  };
  const common = { db: storage.db, source, model: MODEL_NAME, seed };
  const server = o.ui
    ? await startControlServer({ ...common, storage: storage.where, dir: storage.dir, dashboardDir: await ensureDashboard((t) => log(o, t)) })
    : undefined;
  if (server !== undefined) log(o, `      dashboard: ${server.url}/#token=${server.token}`);
  const controller = server?.paper ?? new PaperController({ ...common, spillDir: storage.dir, onEvent: () => {}, onSession: () => {} });
  const ended = controller.stopped(); // the controller stops the session once the simulated markets settled
  await controller.start();
  let deployed: Promise<unknown> | undefined;
  const halfway = setInterval(() => {
    if (deployed === undefined && exchange !== undefined && exchange.progress.fraction >= 0.5) deployed = deploySecond();
  }, 5);
  try {
    const report = await ended;
    await deployed;
    return { summary: paperSummary(report), server };
  } finally {
    clearInterval(halfway);
  }
}

function mean(xs: readonly number[]): number {
  return xs.length === 0 ? Number.NaN : xs.reduce((s, x) => s + x, 0) / xs.length;
}

function printReport(r: DemoReport): void {
  const usd = (x: number) => `${x < 0 ? '-' : ''}$${Math.abs(x).toFixed(4)}`;
  console.log('Data collected (through the authenticated collector, stored in and loaded back from the database)');
  console.log(
    formatTable(
      ['session', 'role', 'sim seed', 'markets', 'events', 'frames', 'rows written', 'gaps'],
      r.sessions.map((s) => [s.id, s.role, String(s.seed), String(s.markets), String(s.events), String(s.frames), String(s.rowsWritten), String(s.gaps)]),
    ),
  );
  const t = r.training;
  console.log(
    `\nTraining: PPO, ${t.timesteps} steps in ${t.seconds} s (${t.sps} steps/s); mean episodic return (cents) ` +
      `${t.firstReturns.toFixed(2)} in the first tenth of episodes → ${t.lastReturns.toFixed(2)} in the last tenth`,
  );
  console.log('\nEvaluation on held-out markets (PnL per episode after fees, dollars)');
  console.log(
    formatTable(
      ['policy', 'episodes', 'mean PnL', 'std PnL', 'Sharpe', 'trades/ep', 'win rate', 'fees paid'],
      r.evaluation.map((e) => [
        e.policy,
        String(e.episodes),
        usd(e.meanPnl),
        usd(e.stdPnl),
        e.sharpe.toFixed(2),
        e.meanTrades.toFixed(1),
        `${(e.winRate * 100).toFixed(0)}%`,
        usd(e.feesPaid),
      ]),
    ),
  );
  console.log(`\nModel: ${r.model.name} v${r.model.version} (${r.model.status}) → ${r.model.checkpointPath}`);
  const p = r.paper;
  console.log(
    `\nPaper trading (live through the exchange server, session ${p.sessionId}, episode ${p.episodeId}): ${p.markets} markets, ` +
      `${p.decisions} decisions, ${p.orders} orders, ${p.fills} fills, PnL ${usd(p.pnl)} after ${usd(p.feesPaid)} fees (marked to mid); ` +
      `decision p99 ${p.decisionP99Micros} µs`,
  );
  console.log(
    p.reloads.length === 0
      ? `Hot reload: none happened (the session ended before v${r.reloadModel.version} was deployed)`
      : p.reloads
          .map((x) => `Hot reload: v${x.version} took over ${x.deployToFirstDecisionMs} ms after its deployment (loaded in ${x.loadMs} ms), ${x.missedTicks} decision ticks missed; models used: ${p.modelVersions.map((v) => `v${v}`).join(' → ')}`)
          .join('\n'),
  );
  const a = r.audit;
  console.log(
    `Audit (the recorded session replayed through the env with the same models): ${a.decisions} decisions, ${a.mismatches} mismatches` +
      (a.firstMismatch === null ? ' — live equals backtest' : ` — first: ${describeMismatch(a.firstMismatch)}`) +
      `; PnL live ${usd(a.pnlLive)}, replay ${usd(a.pnlReplay)}`,
  );
  console.log(
    `\nNext: pnpm kflow paper --model ${r.model.name} --data-dir ${r.storage.replace(/^pglite:/, '')} (trade it again), ` +
      `pnpm kflow models list --data-dir ${r.storage.replace(/^pglite:/, '')}, pnpm kflow audit --data-dir ${r.storage.replace(/^pglite:/, '')}`,
  );
}

function positiveInt(value: string, name: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n <= 0) throw new Error(`--${name} must be a positive integer, got "${value}"`);
  return n;
}

export function registerDemo(cli: CAC): void {
  cli
    .command('demo', 'Run the whole pipeline on a simulated exchange: collect → store → load → train PPO → evaluate → register → paper trade with a hot reload → audit')
    .option('--data-dir <dir>', 'PGlite data directory', { default: '.kflow/demo' })
    .option('--seed <n>', 'Seed of the simulator, collector and trainer', { default: '1' })
    .option('--markets <n>', 'Simulated markets per session', { default: String(DEMO_DEFAULTS.markets) })
    .option('--minutes <n>', 'Simulated minutes per session', { default: String(DEMO_DEFAULTS.minutes) })
    .option('--timesteps <n>', 'PPO training steps', { default: String(DEMO_DEFAULTS.timesteps) })
    .option('--episodes <n>', 'Evaluation episodes per policy', { default: String(DEMO_DEFAULTS.evalEpisodes) })
    .option('--paper-minutes <n>', 'Simulated minutes of the closing paper-trading session', { default: String(DEMO_DEFAULTS.paperMinutes) })
    .option('--ui', 'Serve the control API and dashboard during paper trading, and after the demo until Ctrl-C')
    .option('--json', 'Print one JSON object with every figure')
    .action(async (raw: { dataDir: string; seed: string; markets: string; minutes: string; timesteps: string; episodes: string; paperMinutes: string; ui?: boolean; json?: boolean }) => {
      const print = (report: DemoReport) => (raw.json ? printJson(report) : printReport(report));
      let printed = false;
      const report = await runDemo(
        {
          dataDir: raw.dataDir,
          seed: Number(raw.seed),
          markets: positiveInt(raw.markets, 'markets'),
          minutes: positiveInt(raw.minutes, 'minutes'),
          timesteps: positiveInt(raw.timesteps, 'timesteps'),
          evalEpisodes: positiveInt(raw.episodes, 'episodes'),
          paperMinutes: positiveInt(raw.paperMinutes, 'paper-minutes'),
          ui: raw.ui === true,
          json: raw.json === true,
        },
        async (r) => {
          print(r);
          printed = true;
          process.stderr.write('\nThe dashboard stays up: Ctrl-C ends the demo.\n');
          await new Promise<void>((resolve) => {
            process.once('SIGINT', () => resolve());
            process.once('SIGTERM', () => resolve());
          });
        },
      );
      if (!printed) print(report);
    });
}
