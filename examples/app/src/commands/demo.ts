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
  KALSHI_PPO,
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
import { wholeNumber } from '../flags';
import { formatTable, printJson } from '../output';
import { startSimExchange } from '../simExchange';
import { ensureDashboard } from '../server/dashboard';
import { PaperController, type PaperSource } from '../server/paperController';
import { type ControlServer, startControlServer } from '../server/server';
import { type AuditResult, describeMismatch, runAudit } from './audit';
import { untilSignal } from '../untilSignal';
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
export const DEMO_DEFAULTS = { markets: 24, minutes: 15, timesteps: KALSHI_PPO.totalTimesteps, evalEpisodes: 200, paperMinutes: 5 } as const;

const DEMO_PRESET = 'informed';
const MODEL_NAME = 'kflow-demo';

/** Everything the demo measured, in one object (`--json` prints it). */
export interface DemoReport {
  readonly storage: string;
  /** The training and held-out sessions; collection figures only for sessions collected by this run. */
  readonly sessions: readonly {
    role: 'train' | 'held-out';
    id: string;
    seed: number;
    reused: boolean;
    markets: number;
    events: number;
    frames?: number;
    rowsWritten?: number;
    gaps?: number;
  }[];
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

/** A bar redrawn in place on a terminal (nothing when piped or with --json: the step lines suffice). */
function progressBar(o: DemoOptions, label: string): { update(fraction: number, detail: string): void; done(): void } | undefined {
  if (o.json || !process.stderr.isTTY) return undefined;
  return {
    update(fraction, detail) {
      const f = Math.min(1, Math.max(0, fraction));
      process.stderr.write(`\r\x1b[2K        ${label} ${'█'.repeat(Math.round(f * 30)).padEnd(30, '░')} ${(100 * f).toFixed(0).padStart(3)}%  ${detail}`);
    },
    done() {
      process.stderr.write('\r\x1b[2K');
    },
  };
}

/**
 * Collects one simulated session through the real collector: a Kalshi-protocol exchange on loopback that
 * checks the RSA-PSS handshake, the authenticated WebSocket client, the shared books and the write queue
 * into the database. It ends when the collector has seen every market settle.
 */
async function collectSession(db: IngestDatabase, sessionId: string, seed: number, o: DemoOptions, spillPath: string): Promise<CollectorStatus> {
  const config = resolveSimConfig(DEMO_PRESET, { seed, markets: o.markets, durationMs: o.minutes * 60_000 });
  const { server, signer } = await startSimExchange(config, 'max');
  const markets = server.markets.map((m) => m.ticker);
  const collector = createCollector({
    url: server.url,
    signer,
    markets,
    db,
    sessionId,
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
  const bar = progressBar(o, 'collecting');
  const ticker = setInterval(() => {
    const s = collector.status();
    bar?.update(server.progress.fraction, `${s.counts.frames} frames, ${s.queue?.written ?? 0} rows written`);
  }, 200);
  try {
    await collector.start();
    // The exchange stops once every market settled; the collector is done when it has received those frames.
    await Promise.race([allSettled, server.finished.then(() => allSettled)]);
    return await collector.stop();
  } finally {
    clearInterval(ticker);
    bar?.done();
    await server.close();
  }
}

/**
 * The demo's recorded sessions are named by what produced them (role, simulator seed, size): a re-run with
 * the same options finds them completed and reuses them instead of collecting again.
 */
function demoSessionId(role: 'train' | 'held-out', seed: number, o: DemoOptions): string {
  return `demo-${role}-${DEMO_PRESET}-seed${seed}-${o.markets}x${o.minutes}min`;
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

    // 1. Collect a training session and a held-out session (another simulator seed: other markets), or
    //    reuse them from an earlier run with the same options.
    const seeds = { train: o.seed, heldOut: o.seed + 1000 };
    const loader = createSessionLoader({ db: storage.db });
    const recorded = await loader.list();
    const collected: { role: 'train' | 'held-out'; seed: number; id: string; reused: boolean; status: CollectorStatus | undefined }[] = [];
    for (const [role, seed] of [['train', seeds.train], ['held-out', seeds.heldOut]] as const) {
      const id = demoSessionId(role, seed, o);
      const previous = recorded.find((r) => r.id === id);
      if (previous?.status === 'completed') {
        log(o, `[1/7] reusing the ${role} session ${id} (collected by an earlier run with these options)`);
        collected.push({ role, seed, id, reused: true, status: undefined });
        continue;
      }
      log(o, `[1/7] collecting the ${role} session: preset ${DEMO_PRESET}, seed ${seed}, ${o.markets} markets × ${o.minutes} simulated minutes ...`);
      // An interrupted earlier run left its session incomplete: this one gets a fresh name.
      const sessionId = previous === undefined ? id : `${id}-${Date.now()}`;
      const status = await collectSession(storage.db, sessionId, seed, o, join(storage.dir, 'kflow-spill.jsonl'));
      collected.push({ role, seed, id: sessionId, reused: false, status });
      log(o, `      session ${status.sessionId}: ${status.counts.frames} frames, ${status.queue?.written ?? 0} rows written, ${status.counts.gaps} gaps`);
    }

    // 2. Load both sessions back from the database (one query per table) into the env's columnar format.
    const loaded: SessionData[] = [];
    for (const c of collected) {
      const t0 = performance.now();
      log(o, `[2/7] loading the ${c.role} session from the database ...`);
      const session = await loader.load(c.id);
      loaded.push(session);
      log(o, `      ${session.markets.length} markets, ${eventsOf(session)} events in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    }
    const [trainSession, heldOutSession] = loaded as [SessionData, SessionData];
    const trainPool = createMarketPool([trainSession]);
    const heldOutPool = createMarketPool([heldOutSession]);

    // 3. Train PPO on the training session's markets.
    log(o, `[3/7] training PPO for ${o.timesteps} steps on ${trainPool.markets.length} markets (${KALSHI_PPO.nEnvs} envs) ...`);
    const metadata = createKalshiEnv({ sessions: trainPool, ...KALSHI_PPO.env }).metadata;
    const returns: number[] = [];
    const result = train(trainPool, o.timesteps, o.seed, o.json, returns);
    const tenth = Math.max(1, Math.floor(returns.length / 10));

    // 4. Evaluate on the held-out markets against the baselines (same env settings, same episode seeds).
    log(o, `[4/7] evaluating on ${heldOutPool.markets.length} held-out markets, ${o.evalEpisodes} episodes per policy ...`);
    const evalEnv = () => createKalshiEnv({ sessions: heldOutPool, ...KALSHI_PPO.env });
    const policies: [string, Policy][] = [
      ['ppo', result.policy],
      ['random', createRandomPolicy({ actionCount: metadata.actionCount, observationSize: metadata.observationSize, featureSetVersion: metadata.featureSetVersion, rng: createRng(o.seed + 7) })],
      ['hold', createHoldPolicy({ actionCount: metadata.actionCount, observationSize: metadata.observationSize, featureSetVersion: metadata.featureSetVersion })],
      ['heuristic', createKalshiHeuristicPolicy(metadata)],
    ];
    const evaluation: KalshiEvalSummary[] = [];
    for (const [i, [name, policy]] of policies.entries()) {
      const t0 = performance.now();
      const e = toEvalSummary(name, evaluateKalshi(policy, evalEnv(), o.evalEpisodes, { seed: o.seed + 50_000 }));
      evaluation.push(e);
      log(o, `      ${i + 1}/${policies.length} ${name.padEnd(9)} mean PnL $${e.meanPnl.toFixed(4)}, Sharpe ${e.sharpe.toFixed(2)} (${((performance.now() - t0) / 1000).toFixed(1)} s)`);
    }

    // 5. Save the checkpoint (with its trading setup) and register it; train and register a second version.
    const ppo = evaluation[0]!;
    const save = async (r: TrainResult<object>, tag: string): Promise<string> => {
      const path = resolve(storage.dir, 'models', `${MODEL_NAME}-${trainSession.id}-${r.timesteps}steps${tag}`);
      await writeCheckpoint(path, createCheckpoint(r, { envId: 'kalshi', trading: metadata.setup, training: { sessions: [trainSession.id], kalshiEnv: KALSHI_PPO.env } }));
      return path;
    };
    const checkpointPath = await save(result, `-seed${o.seed}`);
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
        id: c.id,
        seed: c.seed,
        reused: c.reused,
        markets: loaded[i]!.markets.length,
        events: eventsOf(loaded[i]!),
        ...(c.status === undefined ? {} : { frames: c.status.counts.frames, rowsWritten: c.status.queue?.written ?? 0, gaps: c.status.counts.gaps }),
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
  const envs = new SyncVectorEnv(Array.from({ length: KALSHI_PPO.nEnvs }, () => () => createKalshiEnv({ sessions: pool, ...KALSHI_PPO.env })));
  const bar = quiet || !process.stderr.isTTY ? undefined : progressLine(timesteps);
  const onEvent = (event: TrainingEvent) => {
    if (event.kind === 'episode') returns.push(event.metrics['charts/episodic_return']!);
    else bar?.update(event.timesteps, mean(returns.slice(-50)), event.metrics['charts/SPS']);
  };
  const featureSetVersion = createKalshiEnv({ sessions: pool, ...KALSHI_PPO.env }).metadata.featureSetVersion;
  const result = trainPpo({ envs, totalTimesteps: timesteps, seed, clock: systemClock, onEvent, featureSetVersion, ...KALSHI_PPO.ppo, policy: KALSHI_PPO.policy });
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
      r.sessions.map((s) => [
        s.id,
        s.role,
        String(s.seed),
        String(s.markets),
        String(s.events),
        ...(s.reused ? ['(reused)', '', ''] : [String(s.frames), String(s.rowsWritten), String(s.gaps)]),
      ]),
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
  // `pnpm demo` runs in the repository (pnpm kflow); an installed CLI is `kflow`.
  const kflow = process.env.npm_lifecycle_event === 'demo' || process.env.npm_lifecycle_event === 'kflow' ? 'pnpm kflow' : 'kflow';
  const dir = r.storage.replace(/^pglite:/, '');
  console.log(
    [
      '\nWhat next (same data directory):',
      `  ${kflow} sessions --data-dir ${dir}                                   the recorded sessions`,
      `  ${kflow} train --session all --data-dir ${dir} --out my-model --register my-model   train on them`,
      `  ${kflow} eval --model my-model --session ${r.sessions[1]!.id} --data-dir ${dir}   evaluate on the held-out one`,
      `  ${kflow} paper --model ${r.model.name} --data-dir ${dir} --ui                 paper trade with the dashboard`,
      `  ${kflow} collect --source demo --markets TICKER,...                 collect real Kalshi data (needs an API key)`,
    ].join('\n'),
  );
}

export function registerDemo(cli: CAC): void {
  cli
    .command('demo', 'Run the whole pipeline on a simulated exchange: collect → store → load → train PPO → evaluate → register → paper trade with a hot reload → audit')
    .option('--data-dir <dir>', 'PGlite data directory', { default: '.kflow/demo' })
    .option('--seed <n>', 'Seed of the simulator, collector and trainer', { default: '1' })
    .option('--sim-markets <n>', 'Simulated markets per session', { default: String(DEMO_DEFAULTS.markets) })
    .option('--sim-minutes <n>', 'Simulated minutes per session', { default: String(DEMO_DEFAULTS.minutes) })
    .option('--timesteps <n>', 'PPO training steps', { default: String(DEMO_DEFAULTS.timesteps) })
    .option('--episodes <n>', 'Evaluation episodes per policy', { default: String(DEMO_DEFAULTS.evalEpisodes) })
    .option('--paper-minutes <n>', 'Simulated minutes of the closing paper-trading session', { default: String(DEMO_DEFAULTS.paperMinutes) })
    .option('--ui', 'Serve the control API and dashboard during paper trading, and after the demo until Ctrl-C')
    .option('--json', 'Print one JSON object with every figure')
    .action(async (raw: { dataDir: string; seed: string; simMarkets: string; simMinutes: string; timesteps: string; episodes: string; paperMinutes: string; ui?: boolean; json?: boolean }) => {
      const print = (report: DemoReport) => (raw.json ? printJson(report) : printReport(report));
      let printed = false;
      const report = await runDemo(
        {
          dataDir: raw.dataDir,
          seed: wholeNumber(raw.seed, 'seed', 0),
          markets: wholeNumber(raw.simMarkets, 'sim-markets', 1),
          minutes: wholeNumber(raw.simMinutes, 'sim-minutes', 1),
          timesteps: wholeNumber(raw.timesteps, 'timesteps', 1),
          evalEpisodes: wholeNumber(raw.episodes, 'episodes', 1),
          paperMinutes: wholeNumber(raw.paperMinutes, 'paper-minutes', 1),
          ui: raw.ui === true,
          json: raw.json === true,
        },
        async (r) => {
          print(r);
          printed = true;
          process.stderr.write('\nThe dashboard stays up: Ctrl-C ends the demo.\n');
          const signal = untilSignal(undefined);
          await signal.done;
          signal.dispose();
        },
      );
      if (!printed) print(report);
    });
}
