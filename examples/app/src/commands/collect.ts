import { constants } from 'node:os';
import type { CAC } from 'cac';
import { createRng, systemClock } from '@kflow/orderbook';
import {
  createCollector,
  createKalshiSigner,
  migrate,
  openPglite,
  type CollectorStatus,
  type IngestDatabase,
  type KalshiSigner,
  type SessionEnvironment,
} from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { type SimFlags, edgeFlag, optional, positiveNumber, simConfigOf, speedFactor, userPath } from '../flags';
import { startSimExchange } from '../simExchange';
import { loopDelayFigures, loopDelayMonitor } from '../loopDelay';
import { printJson } from '../output';
import { recoveredAnything, recoveryLines } from '../recoveryReport';
import { type StopReason, untilSignal } from '../untilSignal';

export interface StorageOptions {
  db?: string;
  dataDir?: string;
}

/** Opens and migrates the database a command names: `--db URL` (PostgreSQL) or `--data-dir DIR` (PGlite, the default). */
export async function openStorage(o: StorageOptions): Promise<{ db: IngestDatabase; where: string; dir: string }> {
  if (o.db !== undefined && o.dataDir !== undefined) throw new Error('use either --db or --data-dir, not both');
  const dataDir = userPath(o.dataDir ?? 'kflow-data');
  const db = o.db !== undefined ? await connectPostgres({ url: o.db }) : await openPglite({ dataDir });
  try {
    await migrate(db);
  } catch (error) {
    await db.close();
    throw error;
  }
  // Never print a connection string: it may hold a password.
  return { db, where: o.db !== undefined ? 'postgres' : `pglite:${o.dataDir ?? 'kflow-data'}`, dir: o.db !== undefined ? userPath('.') : dataDir };
}

/** Where frames come from (`--source`, `--markets` and the simulator's options), as cac parses them. */
export interface SourceOptions extends SimFlags {
  source?: string;
  markets?: string;
  speed: string;
  /** sim: the edge knob (default: the preset's). */
  edge?: string;
}

interface CollectOptions extends StorageOptions, SourceOptions {
  record?: string;
  duration?: string;
  shutdownTimeout: string;
  json?: boolean;
}

async function kalshiSigner(required: boolean): Promise<KalshiSigner | undefined> {
  const apiKeyId = process.env.KALSHI_API_KEY_ID;
  const privateKeyPath = process.env.KALSHI_PRIVATE_KEY_PATH;
  if (apiKeyId && privateKeyPath) return createKalshiSigner({ apiKeyId, privateKeyPath });
  if (required) throw new Error('Kalshi needs credentials: set KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH (or use --source sim)');
  return undefined;
}

/** Where the frames come from: Kalshi, a local simulator exchange started here, or any ws:// URL. */
export async function resolveSource(o: SourceOptions & { source: string }) {
  if (o.source === 'kalshi' || o.source === 'production' || o.source === 'demo') {
    const url = o.source === 'demo' ? 'demo' : 'production';
    return { url, environment: url as SessionEnvironment, signer: await kalshiSigner(true), markets: list(o.markets, true), server: undefined };
  }
  if (o.source === 'sim') {
    const { server, signer } = await startSimExchange(simConfigOf(o, o.edge === undefined ? {} : { edge: edgeFlag(o.edge) }), speedFactor(o.speed));
    const all = server.markets.map((m) => m.ticker);
    const wanted = list(o.markets, false);
    const unknown = wanted.filter((t) => !all.includes(t));
    if (unknown.length > 0) {
      // The exchange would keep the process alive after the error.
      await server.close();
      throw new Error(`the simulator has no market ${unknown.join(', ')} (it has ${all.join(', ')})`);
    }
    return { url: server.url, environment: 'sim' as const, signer, markets: wanted.length > 0 ? wanted : all, server };
  }
  if (/^wss?:\/\//.test(o.source)) {
    return { url: o.source, environment: 'custom' as const, signer: await kalshiSigner(false), markets: list(o.markets, true), server: undefined };
  }
  throw new Error(`--source must be kalshi, demo, sim or a ws:// URL, got "${o.source}"`);
}

/** `--markets T1,T2`; `all` (or nothing) means every market the source has, which only the simulator can list. */
function list(value: string | undefined, required: boolean): string[] {
  const tickers = value === 'all' ? [] : String(value ?? '').split(',').map((t) => t.trim()).filter(Boolean);
  if (required && tickers.length === 0) throw new Error('--markets T1,T2,... is required for this source (only --source sim can list all its markets)');
  return tickers;
}

function statusLine(s: CollectorStatus, perSec: number): string {
  const q = s.queue;
  return (
    `${s.connected ? 'live' : 'connecting'}  ${perSec.toFixed(0)} msg/s  frames ${s.counts.frames}  ` +
    `queue ${q?.pending ?? 0}  written ${q?.written ?? 0}  lag ${q?.lagMs ?? 0} ms (max ${q?.maxLagMs ?? 0})  ` +
    `gaps ${s.counts.gaps}  reconnects ${s.counts.reconnects}${q && q.spilled > 0 ? `  spilled ${q.spilled}` : ''}`
  );
}

async function collect(options: CollectOptions): Promise<void> {
  // Kalshi when credentials are configured, else the local simulator.
  const o = { ...options, source: options.source ?? (process.env.KALSHI_API_KEY_ID && process.env.KALSHI_PRIVATE_KEY_PATH ? 'kalshi' : 'sim') };
  // Refused before anything is opened.
  const durationMs = optional(o.duration, (v) => positiveNumber(v, 'duration') * 1000);
  const shutdownTimeoutMs = positiveNumber(o.shutdownTimeout, 'shutdown-timeout') * 1000;
  const source = await resolveSource(o);
  try {
    const storage = await openStorage(o);
    try {
      await run(o, source, storage, durationMs, shutdownTimeoutMs);
    } finally {
      await closeWithin(storage.db, CLOSE_DATABASE_MS);
    }
  } finally {
    await source.server?.close();
  }
}

/** How long closing the database may take after a shutdown before the process stops waiting for it. */
const CLOSE_DATABASE_MS = 5000;

/** Closes the database, unless that hangs (a pool whose connection died mid-write waits for it forever). */
async function closeWithin(db: IngestDatabase, ms: number): Promise<void> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const gaveUp = await Promise.race([db.close().then(() => false), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), ms)))]);
  clearTimeout(timer);
  if (gaveUp) {
    process.stderr.write(`kflow: the database connection did not close within ${ms / 1000} s; exiting without it\n`);
    process.exit(process.exitCode ?? 1);
  }
}

/** How long a stop runs before the wait for the database is announced. */
const ANNOUNCE_WAIT_MS = 1000;

/** Rows not in the database yet: in memory, or in the spill file (written there by this run, not read back yet). */
function unstoredRows(s: CollectorStatus): { inMemory: number; inSpill: number } {
  return { inMemory: s.queue?.pending ?? 0, inSpill: (s.queue?.spilled ?? 0) - (s.queue?.replayed ?? 0) };
}

/** Collects until Ctrl-C, `--duration` or the end of a simulated session, then prints the summary. */
async function run(
  o: CollectOptions & { source: string },
  source: Awaited<ReturnType<typeof resolveSource>>,
  storage: Awaited<ReturnType<typeof openStorage>>,
  durationMs: number | undefined,
  shutdownTimeoutMs: number,
): Promise<void> {
  let lastProblem: string | undefined;
  // A simulated session ends with the server closing the connection, and a stop closes it here: neither is a problem.
  let ended = false;
  void source.server?.finished.then(() => (ended = true));
  const warn = (message: string) => {
    if (ended) return;
    lastProblem = message;
    process.stderr.write(`${process.stderr.isTTY ? '\r\x1b[2K' : ''}warning: ${message}\n`);
  };
  const collector = createCollector({
    url: source.url,
    ...(source.signer ? { signer: source.signer } : {}),
    markets: source.markets,
    db: storage.db,
    environment: source.environment,
    // The spill file goes to the database's spill directory, and is recorded with the session.
    queue: { closeTimeoutMs: shutdownTimeoutMs },
    ...(o.record ? { recordPath: userPath(o.record) } : {}),
    rng: createRng(Number(process.hrtime.bigint() % 2_147_483_647n)),
    clock: systemClock,
    // Connection trouble after the start is retried forever, and said on stderr as it happens.
    onEvent: (event) => {
      if (event.type === 'disconnected' && collector.client.stats.frames > 0) warn(`disconnected: ${event.reason} (reconnecting)`);
      else if (event.type === 'server-error') warn(`server error ${event.code}: ${event.message}`);
    },
  });
  const started = performance.now();
  if (!o.json) process.stderr.write(`connecting to ${collector.client.url} for ${source.markets.join(', ')} (session ${collector.sessionId}) ...\n`);
  await collector.start();
  const recovered = collector.recovered;
  if (!o.json && recovered !== undefined) for (const line of recoveryLines(recovered)) process.stderr.write(`${line}\n`);
  if (!o.json) process.stderr.write(`collecting into ${storage.where}\n`);
  // How long frames can wait for the socket handler: measured while collecting, not during the stop's flush.
  const loopDelay = loopDelayMonitor();
  loopDelay.enable();

  let lastFrames = 0;
  let lastAt = started;
  const ticker = setInterval(() => {
    const s = collector.status();
    const now = performance.now();
    const rate = ((s.counts.frames - lastFrames) * 1000) / Math.max(1, now - lastAt);
    lastFrames = s.counts.frames;
    lastAt = now;
    // The status line goes to stderr (stdout stays one JSON object with --json); piped, it is a log line.
    if (process.stderr.isTTY) process.stderr.write(`\r\x1b[2K${statusLine(s, rate)}`);
    else if (!o.json) process.stderr.write(`${statusLine(s, rate)}\n`);
  }, 1000);

  const stop = untilSignal(durationMs);
  // A simulated session ends when its markets settle; give the last frames a moment to arrive.
  const settled = source.server?.finished.then(() => new Promise<void>((resolve) => setTimeout(resolve, 500)));
  const reason: StopReason | 'end' = await Promise.race([stop.done, ...(settled === undefined ? [] : [settled.then(() => 'end' as const)])]);
  ended = true;
  loopDelay.disable();
  clearInterval(ticker);
  if (process.stderr.isTTY) process.stderr.write('\n');

  const eventLoopDelayMs = loopDelayFigures(loopDelay);
  const summarize = (final: CollectorStatus, stoppedBy: string) => {
    const q = final.queue;
    const { inMemory, inSpill } = unstoredRows(final);
    return {
      sessionId: final.sessionId,
      source: /^wss?:/.test(o.source) ? collector.client.url : o.source, // credentials in a custom URL stay masked
      environment: source.environment,
      storage: storage.where,
      markets: source.markets,
      durationSeconds: Math.round((performance.now() - started) / 100) / 10,
      stoppedBy,
      ...final.counts,
      rowsEnqueued: q?.enqueued ?? 0,
      rowsWritten: q?.written ?? 0,
      rowsSpilled: q?.spilled ?? 0,
      // Rows in the spill file, not yet in the database: the next collect on this database, or `kflow recover`, stores them.
      rowsInSpillFile: inSpill + inMemory,
      rowsDropped: q?.dropped ?? 0,
      rowsRejected: q?.rejected ?? 0,
      maxLagMs: q?.maxLagMs ?? 0,
      ...(eventLoopDelayMs === undefined ? {} : { eventLoopDelayMs }),
      ...(final.spillPath !== undefined && (q?.spilled ?? 0) + (q?.rejected ?? 0) > 0 ? { spillPath: final.spillPath } : {}),
      sessionRecord: final.recordDeferred ? ('deferred' as const) : ('stored' as const),
      ...(q?.lastError !== undefined && inSpill + inMemory > 0 ? { lastDatabaseError: q.lastError } : {}),
      ...(o.record ? { record: o.record, recordedLines: final.recordedLines } : {}),
      ...(recovered !== undefined && recoveredAnything(recovered) ? { recovered } : {}),
      ...(lastProblem === undefined ? {} : { lastProblem }),
    };
  };
  const report = (summary: ReturnType<typeof summarize>): number => {
    if (o.json) printJson(summary);
    else {
      console.log(
        `session ${summary.sessionId}: ${summary.frames} frames (${summary.snapshots} snapshots, ${summary.deltas} deltas, ${summary.trades} trades) ` +
          `in ${summary.durationSeconds} s; ${summary.rowsWritten} rows written, ${summary.rowsInSpillFile} in the spill file, ${summary.rowsDropped} dropped; ` +
          `${summary.gaps} gaps, ${summary.reconnects} reconnects, ${summary.malformed} malformed` +
          `${summary.eventLoopDelayMs === undefined ? '' : `; event-loop delay p99 ${summary.eventLoopDelayMs.p99} ms (max ${summary.eventLoopDelayMs.max})`}`,
      );
    }
    let failed = false;
    if (summary.rowsInSpillFile > 0 || summary.sessionRecord === 'deferred') {
      const what = [
        ...(summary.rowsInSpillFile > 0 ? [`${summary.rowsInSpillFile} rows`] : []),
        ...(summary.sessionRecord === 'deferred' ? ['the session\'s final record'] : []),
      ].join(' and ');
      process.stderr.write(
        `kflow: ${what} could not be stored${summary.lastDatabaseError === undefined ? '' : ` (${summary.lastDatabaseError})`} and wait in ${summary.spillPath ?? 'the spill directory'}: ` +
          `the next \`kflow collect\` on this database stores them, or \`kflow recover\` with the same --db/--data-dir\n`,
      );
      failed = true;
    }
    // Rows that could not be stored are a failed collection, even though the capture may hold them.
    if (summary.rowsDropped > 0 || summary.rowsRejected > 0) {
      process.stderr.write(
        `kflow: ${summary.rowsDropped} rows dropped and ${summary.rowsRejected} rejected by the database` +
          `${summary.rowsRejected > 0 && summary.spillPath !== undefined ? ` (rejected rows are kept in ${summary.spillPath}.rejected)` : ''}\n`,
      );
      failed = true;
    }
    return failed ? 1 : 0;
  };

  // A second Ctrl-C (or SIGTERM) while the database is being waited for: everything still queued goes to
  // the spill file now, synchronously, and the process ends with the summary.
  stop.onRepeat((signal) => {
    const final = collector.abort();
    report(summarize(final, `${reason}, then ${signal}`));
    process.exit(128 + constants.signals[signal]);
  });
  const stopping = collector.stop();
  const announce = setTimeout(() => {
    const { inMemory, inSpill } = unstoredRows(collector.status());
    process.stderr.write(
      `kflow: waiting up to ${Math.max(1, Math.round((shutdownTimeoutMs - ANNOUNCE_WAIT_MS) / 1000))} s more for the database to take ${inMemory + inSpill} rows ` +
        `(${inMemory} in memory, ${inSpill} in the spill file); after that they stay in the spill file. Press Ctrl-C again to spill them now and exit.\n`,
    );
  }, ANNOUNCE_WAIT_MS);
  // The summary is printed whatever the stop ran into (a capture file that failed to close, say).
  let stopError: unknown;
  const final = await stopping.catch((error: unknown) => {
    stopError = error;
    return collector.status();
  });
  clearTimeout(announce);
  stop.dispose();
  if (report(summarize(final, reason)) !== 0) process.exitCode = 1;
  if (stopError !== undefined) throw stopError;
}

export function registerCollect(cli: CAC): void {
  cli
    .command('collect', 'Collect order books from Kalshi, the simulator or any Kalshi-protocol URL into PostgreSQL or PGlite')
    .option('--source <source>', 'kalshi | demo | sim | ws://host:port/path (default: kalshi with KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH set, else sim)')
    .option('--markets <tickers>', 'Comma-separated market tickers (sim: default all simulated markets)')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--record <file>', 'Also write every frame to this JSONL capture (replaced if it exists)')
    .option('--duration <seconds>', 'Stop after this long (default: until Ctrl-C, or the end of a simulated session)')
    .option('--shutdown-timeout <seconds>', 'On stop, wait this long for the database to take every queued row; the rest stays in the spill file', { default: '30' })
    .option('--preset <name>', 'sim: calm | volatile | informed', { default: 'informed' })
    .option('--seed <n>', 'sim: random seed', { default: '1' })
    .option('--sim-markets <n>', 'sim: number of markets', { default: '3' })
    .option('--sim-minutes <t>', 'sim: session length in exchange minutes', { default: '2' })
    .option('--speed <x>', 'sim: speed factor or max', { default: 'max' })
    .option('--edge <x>', "sim: the edge knob in [0, 1] (default: the preset's; 0: nothing predicts the next mid move)")
    .option('--json', 'Print one JSON summary at the end (the live status line stays on a terminal\'s stderr)')
    .action((options: CollectOptions) => collect(options));
}
