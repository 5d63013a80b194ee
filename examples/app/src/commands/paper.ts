import type { CAC } from 'cac';
import type { ActorRiskLimits, ActorSummary } from '@kflow/actor';
import { formatMicros } from '@kflow/orderbook';
import { optional, positiveNumber, wholeNumber } from '../flags';
import { untilSignal } from '../untilSignal';
import { formatTable, printJson } from '../output';
import type { PaperReport, PaperSession } from '../paperTrading';
import { ensureDashboard } from '../server/dashboard';
import { type ControllerEvent, PaperController } from '../server/paperController';
import { type ControlServer, startControlServer } from '../server/server';
import { openStorage, resolveSource, type SourceOptions, type StorageOptions } from './collect';

interface PaperOptions extends StorageOptions, SourceOptions {
  model?: string;
  duration?: string;
  maxPosition?: string;
  maxOpenOrders?: string;
  lossLimit?: string;
  mode: string;
  ui?: boolean;
  host: string;
  port: string;
  json?: boolean;
}

/** The last line of `kflow paper --json`. Money in dollars. */
export interface PaperSummary {
  readonly decisions: number;
  readonly orders: number;
  readonly fills: number;
  readonly feesPaid: number;
  readonly pnl: number;
  readonly markets: number;
  readonly modelVersions: readonly number[];
  readonly reloads: readonly { version: number; loadMs: number; deployToFirstDecisionMs: number | null; missedTicks: number }[];
  readonly refusedModels: number;
  readonly refusals: ActorSummary['refusals'];
  readonly overrides: ActorSummary['overrides'];
  readonly halted: boolean;
  readonly decisionP99Micros: number;
  readonly sessionId: string;
  readonly episodeId: number;
  readonly actionRows: number;
  readonly actionRowsDropped: number;
}

export function paperSummary(r: PaperReport): PaperSummary {
  const a = r.actor;
  return {
    decisions: a.decisions,
    orders: a.orders,
    fills: a.fills,
    feesPaid: a.feesPaidMicros / 1e6,
    pnl: a.pnlMicros / 1e6,
    markets: a.markets,
    modelVersions: a.modelVersions,
    reloads: a.reloads.map((x) => ({ version: x.version, loadMs: round(x.loadMs), deployToFirstDecisionMs: x.deployToFirstDecisionMs, missedTicks: x.missedTicks })),
    refusedModels: a.refusals.length,
    refusals: a.refusals,
    overrides: a.overrides,
    halted: a.halted,
    decisionP99Micros: round(a.decisionLatencyMicros.p99),
    sessionId: r.sessionId,
    episodeId: r.episodeId,
    actionRows: r.actions.written,
    actionRowsDropped: r.actions.dropped,
  };
}

function round(x: number): number {
  return Math.round(x * 10) / 10;
}

const usd = (micros: number) => `${micros < 0 ? '-' : ''}$${formatMicros(Math.abs(Math.round(micros)), 4)}`;

/** One JSON line per event worth reading (not every HOLD). */
export function eventLine(e: ControllerEvent): unknown | undefined {
  switch (e.type) {
    case 'decision': {
      const r = e.record;
      if (r.order === null && r.override === null && r.action !== 0 && !r.executed) return undefined;
      if (r.order === null && r.override === null) return undefined;
      return { event: 'order', market: r.market, tsMs: r.tsMs, action: r.action, order: r.order, executed: r.executed, reject: r.reject, override: r.override, model: r.model.version };
    }
    case 'fill':
      return { event: 'fill', market: e.market, tsMs: e.tsMs, ...e.fill, feeMicros: e.feeMicros };
    case 'reload':
      return { event: 'reload', ...e.reload };
    case 'refused':
      return { event: 'refused', ...e.refusal };
    case 'halt':
      return { event: 'halt', pnl: e.pnlMicros / 1e6, limit: e.limitMicros / 1e6 };
    case 'settled':
      return { event: 'settled', market: e.market, result: e.result, pnl: e.pnlMicros / 1e6 };
    case 'error':
      return { event: 'error', message: e.message };
    default:
      return { event: e.type, ...e.detail };
  }
}

/** A terminal message for the events a trader must not miss. */
export function eventText(e: ControllerEvent): string | undefined {
  switch (e.type) {
    case 'reload':
      return `reloaded: v${e.reload.version} (load ${e.reload.loadMs.toFixed(0)} ms, first decision ${e.reload.deployToFirstDecisionMs} ms after the deploy)`;
    case 'refused':
      return `refused model v${e.refusal.version}: ${e.refusal.reason} (the running model keeps trading)`;
    case 'halt':
      return `LOSS LIMIT: PnL ${usd(e.pnlMicros)} below -${usd(e.limitMicros)}: canceling all orders, trading stopped`;
    case 'error':
      return `error: ${e.message}`;
    default:
      return undefined;
  }
}

function statusTable(session: PaperSession): string {
  const rows = session.actor
    .marketStatus()
    .map((m) => [m.ticker, (m.positionCenti / 100).toFixed(2), usd(m.pnlMicros), m.lastAction ?? '-', m.modelVersion === undefined ? '-' : `v${m.modelVersion}`, m.settled ? 'settled' : m.stale ? 'stale' : 'live']);
  const s = session.actor.summary();
  return (
    formatTable(['market', 'position', 'PnL', 'last action', 'model', 'book'], rows) +
    `\n${s.decisions} decisions, ${s.orders} orders, ${s.fills} fills, fees ${usd(s.feesPaidMicros)}, PnL ${usd(s.pnlMicros)}, decision p99 ${s.decisionLatencyMicros.p99.toFixed(0)} µs`
  );
}

/** The risk limits of the flags. */
function riskOf(o: PaperOptions): ActorRiskLimits {
  const lossLimit = optional(o.lossLimit, (v) => Math.round(positiveNumber(v, 'loss-limit') * 1e6));
  const maxPosition = optional(o.maxPosition, (v) => wholeNumber(v, 'max-position', 1));
  const maxOpenOrders = optional(o.maxOpenOrders, (v) => wholeNumber(v, 'max-open-orders', 1));
  return {
    ...(maxPosition === undefined ? {} : { maxPositionCenti: maxPosition * 100 }),
    ...(maxOpenOrders === undefined ? {} : { maxOpenOrders }),
    ...(lossLimit === undefined ? {} : { sessionLossLimitMicros: lossLimit }),
  };
}


async function paper(o: PaperOptions): Promise<void> {
  if (o.mode !== 'paper') throw new Error(`LIVE_MODE_FORBIDDEN: kflow trades only on paper (--mode ${o.mode} refused)`);
  if (o.model === undefined) throw new Error('--model NAME|DIR is required (a registry name to trade its deployment, or a checkpoint directory)');
  const risk = riskOf(o);
  const storage = await openStorage(o);
  const tty = !o.json && process.stderr.isTTY;
  const onEvent = (e: ControllerEvent): void => {
    if (o.json) {
      const line = eventLine(e);
      if (line !== undefined) printJson(line);
    } else {
      const text = eventText(e);
      if (text !== undefined) process.stderr.write(`${tty ? '\r\x1b[2K' : ''}${text}\n`);
    }
  };
  const common = {
    db: storage.db,
    spillDir: storage.dir,
    source: () => resolveSource({ ...o, source: o.source ?? 'sim' }),
    model: String(o.model),
    seed: wholeNumber(o.seed, 'seed', 0),
    risk,
  };
  let server: ControlServer | undefined;
  let controller: PaperController;
  let report: PaperReport | undefined;
  const signal = untilSignal(optional(o.duration, (v) => positiveNumber(v, 'duration') * 1000));
  let table: ReturnType<typeof setInterval> | undefined;
  try {
    if (o.ui) {
      server = await startControlServer({ ...common, storage: storage.where, dir: storage.dir, host: o.host, port: wholeNumber(o.port, 'port', 0), onEvent, dashboardDir: await ensureDashboard() });
      controller = server.paper;
      process.stderr.write(`dashboard: ${server.url}/#token=${server.token}\n(API: bearer token ${server.token}; it is printed once)\n`);
    } else {
      controller = new PaperController({ ...common, onEvent, onSession: () => {} });
    }
    const session = await controller.start();
    if (!o.json) process.stderr.write(`paper trading ${session.collector.client.markets.length} markets from ${session.collector.client.url} (session ${session.sessionId}, episode ${session.episodeId}, storage ${storage.where}). Ctrl-C stops.\n`);
    if (tty && !o.ui) table = setInterval(() => process.stderr.write(`\x1b[H\x1b[2J${statusTable(session)}\n`), 1000);
    // A simulated session stops by itself once its markets settled; with --ui the server stays up for the dashboard.
    const ended = controller.stopped();
    await Promise.race([signal.done, o.ui ? new Promise<never>(() => {}) : ended]);
    report = controller.session !== undefined ? await controller.stop() : controller.last;
  } finally {
    signal.dispose();
    clearInterval(table);
    await server?.close();
    await storage.db.close();
  }
  if (report !== undefined) {
    const summary = paperSummary(report);
    if (o.json) printJson(summary);
    else {
      console.log(
        `paper session ${summary.sessionId} (episode ${summary.episodeId}): ${summary.decisions} decisions on ${summary.markets} markets, ` +
          `${summary.orders} orders, ${summary.fills} fills, fees $${summary.feesPaid.toFixed(4)}, PnL $${summary.pnl.toFixed(4)} (marked to mid, after fees); ` +
          `models ${summary.modelVersions.map((v) => `v${v}`).join(' → ')}, ${summary.reloads.length} reloads, ${summary.refusedModels} refused; ` +
          `decision p99 ${summary.decisionP99Micros} µs; ${summary.actionRows} action rows written.\nnext: kflow audit --session ${summary.sessionId} --episode ${summary.episodeId}`,
      );
    }
  }
}

export function registerPaper(cli: CAC): void {
  cli
    .command('paper', 'Paper trade a model on live books: collector + inference-only actor, with hot reload and a decision log')
    .option('--model <name|dir>', 'A registry name (trades its deployment, reloads on deploy/rollback) or a checkpoint directory')
    .option('--source <source>', 'kalshi | demo | sim | ws://host:port/path', { default: 'sim' })
    .option('--markets <tickers>', 'Comma-separated tickers, or all (sim only)', { default: 'all' })
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--duration <seconds>', 'Stop after this long (default: until Ctrl-C, or the end of a simulated session)')
    .option('--max-position <contracts>', 'Risk: largest |position| per market (default: the model\'s trained limit)')
    .option('--max-open-orders <n>', 'Risk: open orders per market (default 10)')
    .option('--loss-limit <dollars>', 'Risk: stop trading when the session PnL falls below minus this')
    .option('--mode <mode>', 'paper (the only mode: live trading is refused)', { default: 'paper' })
    .option('--preset <name>', 'sim: calm | volatile | informed', { default: 'informed' })
    .option('--seed <n>', 'sim: random seed (also seeds order ids)', { default: '1' })
    .option('--sim-markets <n>', 'sim: number of markets', { default: '8' })
    .option('--sim-minutes <t>', 'sim: session length in exchange minutes', { default: '5' })
    .option('--speed <x>', 'sim: speed factor or max', { default: '1' })
    .option('--ui', 'Also serve the control API, the live streams and the dashboard (see --host, --port)')
    .option('--host <host>', '--ui: interface to bind', { default: '127.0.0.1' })
    .option('--port <port>', '--ui: port', { default: '8787' })
    .option('--json', 'JSON lines of events (orders, fills, reloads, refusals, halts, settlements); the last line is the summary')
    .action((o: PaperOptions) => paper(o));
}
