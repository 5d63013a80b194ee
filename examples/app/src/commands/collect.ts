import { join } from 'node:path';
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
import { resolveSimConfig, type SpeedFactor } from '@kflow/sim';
import { startSimExchange } from '../simExchange';
import { printJson } from '../output';

export interface StorageOptions {
  db?: string;
  dataDir?: string;
}

/** Opens and migrates the database a command names: `--db URL` (PostgreSQL) or `--data-dir DIR` (PGlite, the default). */
export async function openStorage(o: StorageOptions): Promise<{ db: IngestDatabase; where: string; dir: string }> {
  if (o.db !== undefined && o.dataDir !== undefined) throw new Error('use either --db or --data-dir, not both');
  const db = o.db !== undefined ? await connectPostgres({ url: o.db }) : await openPglite({ dataDir: o.dataDir ?? 'kflow-data' });
  await migrate(db);
  // Never print a connection string: it may hold a password.
  return { db, where: o.db !== undefined ? 'postgres' : `pglite:${o.dataDir ?? 'kflow-data'}`, dir: o.dataDir ?? (o.db !== undefined ? '.' : 'kflow-data') };
}

/** Where frames come from (`--source`, `--markets` and the simulator's options), as cac parses them. */
export interface SourceOptions {
  source?: string;
  markets?: string;
  preset: string;
  seed: string;
  simMarkets: string;
  simMinutes: string;
  speed: string;
}

interface CollectOptions extends StorageOptions {
  source?: string;
  markets?: string;
  record?: string;
  duration?: string;
  json?: boolean;
  preset: string;
  seed: string;
  simMarkets: string;
  simMinutes: string;
  speed: string;
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
    const speed: SpeedFactor = o.speed === 'max' ? 'max' : Number(o.speed);
    const config = resolveSimConfig(o.preset, { seed: Number(o.seed), markets: Number(o.simMarkets), durationMs: Math.round(Number(o.simMinutes) * 60_000) });
    const { server, signer } = await startSimExchange(config, speed);
    const all = server.markets.map((m) => m.ticker);
    const wanted = list(o.markets, false);
    const unknown = wanted.filter((t) => !all.includes(t));
    if (unknown.length > 0) throw new Error(`the simulator has no market ${unknown.join(', ')} (it has ${all.join(', ')})`);
    return { url: server.url, environment: 'sim' as const, signer, markets: wanted.length > 0 ? wanted : all, server };
  }
  if (/^wss?:\/\//.test(o.source)) {
    return { url: o.source, environment: 'custom' as const, signer: await kalshiSigner(false), markets: list(o.markets, true), server: undefined };
  }
  throw new Error(`--source must be kalshi, demo, sim or a ws:// URL, got "${o.source}"`);
}

/** `--markets T1,T2`; `all` (or nothing) means every market the source has, which only the simulator can list. */
function list(value: string | undefined, required: boolean): string[] {
  const tickers = value === 'all' ? [] : (value ?? '').split(',').map((t) => t.trim()).filter(Boolean);
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
  const source = await resolveSource(o);
  const storage = await openStorage(o);
  const collector = createCollector({
    url: source.url,
    ...(source.signer ? { signer: source.signer } : {}),
    markets: source.markets,
    db: storage.db,
    environment: source.environment,
    queue: { spillPath: join(storage.dir, 'kflow-spill.jsonl') },
    ...(o.record ? { recordPath: o.record } : {}),
    rng: createRng(Number(process.hrtime.bigint() % 2_147_483_647n)),
    clock: systemClock,
  });
  const started = performance.now();
  await collector.start();
  if (!o.json) process.stderr.write(`collecting ${source.markets.join(', ')} from ${collector.client.url} into ${storage.where} (session ${collector.sessionId})\n`);

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

  let done = () => {};
  let timeout: ReturnType<typeof setTimeout> | undefined;
  await new Promise<void>((resolve) => {
    done = resolve;
    process.once('SIGINT', done);
    process.once('SIGTERM', done);
    if (o.duration !== undefined) timeout = setTimeout(done, Number(o.duration) * 1000);
    // A simulated session ends when its markets settle; give the last frames a moment to arrive.
    void source.server?.finished.then(() => setTimeout(done, 500));
  });
  process.off('SIGINT', done);
  process.off('SIGTERM', done);
  clearTimeout(timeout);
  clearInterval(ticker);
  if (process.stderr.isTTY) process.stderr.write('\n');
  const final = await collector.stop();
  await source.server?.close();
  await storage.db.close();
  const summary = {
    sessionId: final.sessionId,
    source: /^wss?:/.test(o.source) ? collector.client.url : o.source, // credentials in a custom URL stay masked
    environment: source.environment,
    storage: storage.where,
    markets: source.markets,
    durationSeconds: Math.round((performance.now() - started) / 100) / 10,
    ...final.counts,
    rowsEnqueued: final.queue?.enqueued ?? 0,
    rowsWritten: final.queue?.written ?? 0,
    rowsSpilled: final.queue?.spilled ?? 0,
    rowsDropped: final.queue?.dropped ?? 0,
    rowsRejected: final.queue?.rejected ?? 0,
    maxLagMs: final.queue?.maxLagMs ?? 0,
    ...(o.record ? { record: o.record, recordedLines: final.recordedLines } : {}),
  };
  if (o.json) printJson(summary);
  else {
    console.log(
      `session ${summary.sessionId}: ${summary.frames} frames (${summary.snapshots} snapshots, ${summary.deltas} deltas, ${summary.trades} trades) ` +
        `in ${summary.durationSeconds} s; ${summary.rowsWritten} rows written, ${summary.rowsDropped} dropped; ` +
        `${summary.gaps} gaps, ${summary.reconnects} reconnects, ${summary.malformed} malformed`,
    );
  }
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
    .option('--preset <name>', 'sim: calm | volatile | informed', { default: 'informed' })
    .option('--seed <n>', 'sim: random seed', { default: '1' })
    .option('--sim-markets <n>', 'sim: number of markets', { default: '3' })
    .option('--sim-minutes <t>', 'sim: session length in exchange minutes', { default: '2' })
    .option('--speed <x>', 'sim: speed factor or max', { default: 'max' })
    .option('--json', 'Print one JSON summary at the end (the live status line stays on a terminal\'s stderr)')
    .action((options: CollectOptions) => collect(options));
}
