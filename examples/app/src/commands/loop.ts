import type { CAC } from 'cac';
import { optional, positiveNumber, wholeNumber } from '../flags';
import { openJobQueue } from '../jobs/queue';
import { type LoopEvent, type RetrainSchedule, runLoop } from '../loop';
import { printJson } from '../output';
import { untilSignal } from '../untilSignal';
import { createWebhooks } from '../webhooks';
import { type SourceOptions, type StorageOptions, resolveSource } from './collect';
import { eventLine, eventText as actorEventText, paperSummary } from './paper';
import { type RetrainCommandOptions, configObject, threshold, webhookUrls } from './retrain';

interface LoopCommandOptions extends StorageOptions, SourceOptions, Omit<RetrainCommandOptions, 'local' | 'json' | 'seed' | keyof StorageOptions> {
  retrainEvery?: string;
  sessionMinutes?: string;
  sessions?: string;
  duration?: string;
  lossLimit?: string;
  mode: string;
  json?: boolean;
}

/** `--retrain-every`: a number of sessions (`3`) or a duration (`30m`, `2h`, `90s`). */
export function retrainSchedule(value: string | number): RetrainSchedule {
  const duration = /^(\d+(?:\.\d+)?)(s|m|h)$/.exec(String(value).trim());
  if (duration !== null) return { everyMs: Number(duration[1]) * { s: 1000, m: 60_000, h: 3_600_000 }[duration[2] as 's' | 'm' | 'h'] };
  return { sessions: wholeNumber(value, 'retrain-every', 1) };
}

function eventText(e: LoopEvent): string {
  switch (e.type) {
    case 'session': {
      const s = paperSummary(e.report);
      return `session ${e.index} (${s.sessionId}): ${s.decisions} decisions, PnL $${s.pnl.toFixed(4)}, models ${s.modelVersions.map((v) => `v${v}`).join(' → ')}`;
    }
    case 'retrain-started':
      return `retrain ${e.index}: started after session ${e.afterSession} (jobs run in threads of this process)`;
    case 'decision': {
      const d = e.decision;
      return `retrain ${e.index}: ${d.promoted ? 'PROMOTED' : 'refused'} v${d.candidate.version} (paired t ${d.pairedT.toFixed(2)}, $${d.candidatePnl.toFixed(4)} vs $${d.deployedPnl.toFixed(4)} per episode)`;
    }
    case 'retrain-failed':
      return `retrain ${e.index}: failed: ${e.error}`;
  }
}

function jsonOf(e: LoopEvent): unknown {
  const atMs = Date.now();
  return e.type === 'session' ? { type: 'session', atMs, index: e.index, ...paperSummary(e.report) } : { atMs, ...e };
}

async function loop(o: LoopCommandOptions): Promise<void> {
  if (o.mode !== 'paper') throw new Error(`LIVE_MODE_FORBIDDEN: kflow trades only on paper (--mode ${o.mode} refused)`);
  if (o.name === undefined) throw new Error('--name NAME is required: the registry name to trade and retrain (deploy a first version with kflow retrain or kflow models deploy)');
  if (o.retrainEvery === undefined) throw new Error('--retrain-every N|DURATION is required (sessions, or 30m / 2h)');
  const schedule = retrainSchedule(o.retrainEvery);
  const source = o.source ?? 'sim';
  const sessionMs = optional(o.sessionMinutes, (v) => positiveNumber(v, 'session-minutes') * 60_000);
  if (source !== 'sim' && sessionMs === undefined) throw new Error('--session-minutes T is required with a live source: it is how long each recorded session lasts');
  const seed = wholeNumber(o.seed, 'seed', 0);
  const storage = { ...(o.db === undefined ? {} : { db: o.db }), ...(o.dataDir === undefined ? {} : { dataDir: o.dataDir }) };
  const config = await configObject(o.config);
  const timesteps = optional(o.timesteps, (v) => wholeNumber(v, 'timesteps', 1));
  const lossLimit = optional(o.lossLimit, (v) => Math.round(positiveNumber(v, 'loss-limit') * 1e6));
  const webhooks = createWebhooks({ urls: webhookUrls(o.webhook), ...(o.webhookSecret === undefined ? {} : { secret: o.webhookSecret }) });
  const queue = await openJobQueue({ ...storage, superviseIntervalSeconds: 5 });
  const signal = untilSignal(optional(o.duration, (v) => positiveNumber(v, 'duration') * 1000));
  const say = (e: LoopEvent) => (o.json ? printJson(jsonOf(e)) : console.log(eventText(e)));
  try {
    const running = await runLoop({
      queue,
      storage,
      modelsDir: o.modelsDir,
      name: String(o.name),
      // Each simulated session is its own exchange, seeded by its index; a live source is the same feed.
      // Each simulated session is its own exchange, seeded by its index; a live source is the same feed.
      source: (index) => resolveSource({ ...o, source, seed: String(seed + index) }),
      ...(sessionMs === undefined ? {} : { sessionMs }),
      schedule,
      retrain: {
        trainSessions: wholeNumber(o.trainSessions ?? '', 'train-sessions', 1),
        evalSessions: wholeNumber(o.evalSessions ?? '', 'eval-sessions', 1),
        ...(config === undefined ? {} : { config }),
        ...(timesteps === undefined ? {} : { timesteps }),
        episodes: wholeNumber(o.episodes, 'episodes', 1),
        threshold: threshold(o.threshold),
      },
      seed,
      ...(lossLimit === undefined ? {} : { risk: { sessionLossLimitMicros: lossLimit } }),
      webhooks,
      ...(o.sessions === undefined ? {} : { maxSessions: wholeNumber(o.sessions, 'sessions', 1) }),
      onEvent: say,
      // What a trader must not miss: reloads, refused models, loss-limit halts, errors.
      onActorEvent: (e) => {
        if (e.type !== 'reload' && e.type !== 'refused' && e.type !== 'halt' && e.type !== 'error') return;
        if (o.json) printJson({ atMs: Date.now(), ...(eventLine(e) as object) });
        else console.log(actorEventText(e));
      },
    });
    const summary = await Promise.race([running.done, signal.done.then(() => running.stop())]);
    const line = { type: 'summary', sessions: summary.sessions, decisions: summary.decisions.length, promoted: summary.decisions.filter((d) => d.promoted).length, retrainFailures: summary.retrainFailures, webhooks: webhooks.stats() };
    if (o.json) printJson(line);
    else console.log(`loop ended: ${line.sessions} sessions, ${line.decisions} retrain decisions (${line.promoted} promoted), ${line.retrainFailures} failed retrains`);
  } finally {
    signal.dispose();
    await webhooks.close();
    await queue.close();
  }
}

export function registerLoop(cli: CAC): void {
  cli
    .command('loop', 'Paper-trade the deployed model session after session, retrain on a schedule, promote only a better model')
    .option('--name <name>', 'Registry name traded (its deployment) and retrained')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--source <source>', 'kalshi | demo | sim | ws://host:port/path', { default: 'sim' })
    .option('--markets <tickers>', 'Comma-separated tickers (live sources)')
    .option('--session-minutes <t>', 'Live sources: length of each recorded session (simulated sessions end when their markets settle)')
    .option('--retrain-every <n|duration>', 'Retrain after N sessions, or every 30m / 2h')
    .option('--train-sessions <k>', 'Train on the newest K finished sessions after the evaluation ones')
    .option('--eval-sessions <m>', 'Evaluate candidate and deployed model on the newest M finished sessions')
    .option('--config <file>', 'JSON overriding parts of the Kalshi setup, as for kflow train')
    .option('--timesteps <n>', "Training steps (default: the setup's)")
    .option('--episodes <n>', 'Evaluation episodes (the same for both models)', { default: '200' })
    .option('--threshold <t>', 'Promote only when the paired, market-clustered t exceeds this', { default: '2' })
    .option('--models-dir <dir>', "Where candidates' checkpoints are written", { default: 'kflow-models' })
    .option('--webhook <url>', 'POST decisions, loss-limit stops, collector and job failures here; repeatable')
    .option('--webhook-secret <secret>', 'Sign webhooks with HMAC-SHA256 (X-Kflow-Signature); default $KFLOW_WEBHOOK_SECRET')
    .option('--loss-limit <dollars>', 'Risk: stop trading a session when its PnL falls below minus this')
    .option('--sessions <n>', 'Stop after this many sessions (default: until Ctrl-C or --duration)')
    .option('--duration <seconds>', 'Stop after this long')
    .option('--mode <mode>', 'paper (the only mode: live trading is refused)', { default: 'paper' })
    .option('--preset <name>', 'sim: calm | volatile | informed', { default: 'informed' })
    .option('--edge <x>', "sim: the edge knob in [0, 1] (default: the preset's)")
    .option('--seed <n>', 'sim: seed of the first session (session i uses seed + i); also seeds training', { default: '1' })
    .option('--sim-markets <n>', 'sim: number of markets', { default: '8' })
    .option('--sim-minutes <t>', 'sim: session length in exchange minutes', { default: '15' })
    .option('--speed <x>', 'sim: speed factor or max', { default: '1' })
    .option('--json', 'JSON lines: each session, retrain start and decision; the summary last')
    .action(async (o: LoopCommandOptions) => {
      await loop({ ...o, ...(o.webhookSecret === undefined && process.env.KFLOW_WEBHOOK_SECRET !== undefined ? { webhookSecret: process.env.KFLOW_WEBHOOK_SECRET } : {}) });
    });
}
