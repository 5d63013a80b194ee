/**
 * Records Kalshi order books (snapshots, deltas, trades, lifecycle events) into a database, then prints
 * the session summary as one JSON line.
 *
 * - Source: Kalshi production when KALSHI_API_KEY_ID and KALSHI_PRIVATE_KEY_PATH are set (pass the
 *   tickers with --markets), otherwise kflow's market simulator serving the Kalshi protocol on loopback.
 * - Storage: PostgreSQL when DATABASE_URL is set, otherwise PGlite (embedded) in --data-dir.
 * - Stops on Ctrl-C, after --duration seconds, or when a simulated session has settled.
 *
 * Run from the repository root:
 *   node --conditions=@kflow/source --import tsx examples/collector.ts
 *   node --conditions=@kflow/source --import tsx examples/collector.ts --sim-markets 3 --sim-minutes 5 --data-dir ./kflow-data
 *   KALSHI_API_KEY_ID=... KALSHI_PRIVATE_KEY_PATH=key.pem node --conditions=@kflow/source --import tsx examples/collector.ts --markets KXFED-26DEC-T4.00
 */
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { type KalshiSigner, createCollector, createKalshiSigner, migrate, openPglite } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { createRng, systemClock } from '@kflow/orderbook';
import { type ExchangeServer, resolveSimConfig, startLocalExchange } from '@kflow/sim';

const { values: args } = parseArgs({
  options: {
    'data-dir': { type: 'string', default: './kflow-data' },
    markets: { type: 'string' },
    duration: { type: 'string' },
    'sim-markets': { type: 'string', default: '3' },
    'sim-minutes': { type: 'string', default: '5' },
    'sim-seed': { type: 'string', default: '1' },
    speed: { type: 'string', default: 'max' },
  },
});

// Storage: one schema on PostgreSQL or PGlite; `migrate` creates the tables.
const db = process.env.DATABASE_URL ? await connectPostgres({ url: process.env.DATABASE_URL }) : await openPglite({ dataDir: args['data-dir'] });
await migrate(db);

// Source: Kalshi with credentials, else the simulator's exchange with a throwaway RSA key (it checks
// the same RSA-PSS handshake signature Kalshi does).
let url: string;
let signer: KalshiSigner;
let markets: string[];
let sim: ExchangeServer | undefined;
if (process.env.KALSHI_API_KEY_ID && process.env.KALSHI_PRIVATE_KEY_PATH) {
  url = 'production';
  signer = await createKalshiSigner({ apiKeyId: process.env.KALSHI_API_KEY_ID, privateKeyPath: process.env.KALSHI_PRIVATE_KEY_PATH });
  markets = (args.markets ?? '').split(',').filter(Boolean);
  if (markets.length === 0) throw new Error('pass the Kalshi tickers to record: --markets T1,T2');
} else {
  const local = await startLocalExchange({
    config: resolveSimConfig('informed', { seed: Number(args['sim-seed']), markets: Number(args['sim-markets']), durationMs: Number(args['sim-minutes']) * 60_000 }),
    speed: args.speed === 'max' ? 'max' : Number(args.speed),
  });
  sim = local.server;
  url = sim.url;
  signer = await createKalshiSigner(local.credentials);
  markets = sim.markets.map((m) => m.ticker);
}

// The collector: socket → books → batched, lossless writes (a spill file catches what a database outage holds up).
const collector = createCollector({
  url,
  signer,
  markets,
  db,
  environment: sim === undefined ? 'production' : 'sim',
  queue: { spillPath: join(args['data-dir'], 'kflow-spill.jsonl') },
  rng: createRng(Number(process.hrtime.bigint() % 1_000_000n)),
  clock: systemClock,
});
await collector.start();
console.error(`recording ${markets.join(', ')} as session ${collector.sessionId}; Ctrl-C stops`);

await new Promise<void>((resolve) => {
  process.once('SIGINT', () => resolve());
  process.once('SIGTERM', () => resolve());
  if (args.duration !== undefined) setTimeout(resolve, Number(args.duration) * 1000).unref();
  // A simulated session ends when its markets settle; the last frames need a moment to arrive.
  void sim?.finished.then(() => setTimeout(resolve, 500));
});

const status = await collector.stop(); // flushes every queued row and marks the session completed
await sim?.close();
await db.close();
console.log(JSON.stringify({ sessionId: status.sessionId, markets, ...status.counts, rowsWritten: status.queue?.written ?? 0, rowsDropped: status.queue?.dropped ?? 0 }));
