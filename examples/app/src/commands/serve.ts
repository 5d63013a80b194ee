import type { CAC } from 'cac';
import { ensureDashboard } from '../server/dashboard';
import { startControlServer } from '../server/server';
import { wholeNumber } from '../flags';
import { untilSignal } from '../untilSignal';
import { openStorage, resolveSource, type SourceOptions, type StorageOptions } from './collect';

interface ServeOptions extends StorageOptions, SourceOptions {
  model?: string;
  host: string;
  port: string;
}

async function serve(o: ServeOptions): Promise<void> {
  const storage = await openStorage(o);
  try {
    const server = await startControlServer({
      db: storage.db,
      storage: storage.where,
      dir: storage.dir,
      source: () => resolveSource({ ...o, source: o.source ?? 'sim' }),
      ...(o.model === undefined ? {} : { model: String(o.model) }),
      seed: wholeNumber(o.seed, 'seed', 0),
      host: o.host,
      port: wholeNumber(o.port, 'port', 0),
      dashboardDir: await ensureDashboard(),
    });
    process.stderr.write(
      `kflow control API and dashboard: ${server.url}/#token=${server.token}\n` +
        `bearer token ${server.token} (printed once; set KFLOW_TOKEN to choose it). POST /rl/actor/start starts paper trading. Ctrl-C stops.\n`,
    );
    const signal = untilSignal(undefined);
    await signal.done;
    signal.dispose();
    await server.close();
  } finally {
    await storage.db.close();
  }
}

export function registerServe(cli: CAC): void {
  cli
    .command('serve', 'Serve the control API, live streams and dashboard; start paper trading from it (POST /rl/actor/start)')
    .option('--model <name|dir>', 'The model /rl/actor/start trades when it names none')
    .option('--host <host>', 'Interface to bind', { default: '127.0.0.1' })
    .option('--port <port>', 'Port', { default: '8787' })
    .option('--source <source>', 'Where paper sessions get frames: kalshi | demo | sim | ws://host:port/path', { default: 'sim' })
    .option('--markets <tickers>', 'Comma-separated tickers, or all (sim only)', { default: 'all' })
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--preset <name>', 'sim: calm | volatile | informed', { default: 'informed' })
    .option('--seed <n>', 'sim: random seed', { default: '1' })
    .option('--sim-markets <n>', 'sim: number of markets', { default: '8' })
    .option('--sim-minutes <t>', 'sim: session length in exchange minutes', { default: '30' })
    .option('--speed <x>', 'sim: speed factor or max', { default: '1' })
    .action((o: ServeOptions) => serve(o));
}
