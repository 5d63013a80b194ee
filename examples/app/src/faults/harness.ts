/**
 * The fault suite's machinery: a simulator exchange in this process (it counts the frames it sends), the
 * real `kflow collect` as a child process, the stored rows of its session, and a TCP proxy in front of
 * PostgreSQL that a fault can cut.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { openPglite, type IngestDatabase } from '@kflow/ingest';
import { connectPostgres } from '@kflow/ingest/pg';
import { type ExchangeServer, type SpeedFactor, resolveSimConfig, startLocalExchange } from '@kflow/sim';

const ROOT = resolve(import.meta.dirname, '../../../..');

/** How big a run is: `ci` finishes in a few minutes on 2 cores, `full` holds each stress for real. */
export interface FaultSize {
  readonly name: 'ci' | 'full';
  /** Simulated markets per exchange. */
  readonly markets: number;
  /** Exchange speed of every fault but `max-speed` (× real time). */
  readonly speed: SpeedFactor;
  /** How long a collector runs before (and after) its fault. */
  readonly collectMs: number;
  /** Length of the `max-speed` run. */
  readonly maxSpeedMs: number;
  /**
   * Whether `max-speed` judges its RSS and event-loop delay: a run of a few seconds cannot tell growth from
   * start-up allocation, and three faults at once share the cores the delay depends on.
   */
  readonly judgeMaxSpeed: boolean;
  /** How long the PostgreSQL proxy stays cut. */
  readonly outageMs: number;
  /** `outage-shutdown`'s `--shutdown-timeout`: how long the stopping collector waits for the database. */
  readonly shutdownTimeoutS: number;
  /** `pg_terminate_backend` rounds of `backend-kill`. */
  readonly backendKills: number;
  /** Faults run at once. */
  readonly concurrency: number;
}

export const FAULT_SIZES: Readonly<Record<FaultSize['name'], FaultSize>> = {
  ci: { name: 'ci', markets: 2, speed: 50, collectMs: 1000, maxSpeedMs: 4000, judgeMaxSpeed: false, outageMs: 2000, shutdownTimeoutS: 3, backendKills: 2, concurrency: 3 },
  full: { name: 'full', markets: 4, speed: 50, collectMs: 5000, maxSpeedMs: 60_000, judgeMaxSpeed: true, outageMs: 15_000, shutdownTimeoutS: 30, backendKills: 5, concurrency: 1 },
};

export const sleep = (ms: number) => new Promise<void>((done) => setTimeout(done, ms));

/** The frame kinds the collector stores one row each for (lifecycle and ticker frames are not counted: see docs/guides/faults.md). */
export type StoredKind = 'snapshot' | 'delta' | 'trade';
export const STORED_KINDS: readonly StoredKind[] = ['snapshot', 'delta', 'trade'];
export type KindCounts = Record<StoredKind, number>;

/** A simulator exchange on loopback with its credentials in a PEM file, and the frames it sent so far. */
export interface Exchange {
  readonly server: ExchangeServer;
  readonly url: string;
  readonly tickers: readonly string[];
  /** Environment that makes `kflow collect --source <url>` pass the exchange's handshake. */
  readonly env: NodeJS.ProcessEnv;
  /** Frames of the stored kinds sent so far, summed over markets. */
  sent(): KindCounts;
  close(): Promise<void>;
}

/**
 * Starts an exchange and writes its key to `dir`. The session lasts a simulated week (about 24 million
 * frames for 4 markets), so no run reaches its end: a collector at max speed takes about one day's
 * frames a minute.
 */
export async function startExchange(dir: string, size: FaultSize, seed: number, speed: SpeedFactor = size.speed): Promise<Exchange> {
  const config = resolveSimConfig('informed', { seed, markets: size.markets, durationMs: 7 * 24 * 60 * 60_000 });
  const { server, credentials } = await startLocalExchange({ config, speed });
  const keyPath = join(dir, `exchange-${server.port}.pem`);
  await writeFile(keyPath, credentials.privateKeyPem, { mode: 0o600 });
  return {
    server,
    url: server.url,
    tickers: server.markets.map((m) => m.ticker),
    env: { KALSHI_API_KEY_ID: credentials.apiKeyId, KALSHI_PRIVATE_KEY_PATH: keyPath },
    sent: () => {
      const total: KindCounts = { snapshot: 0, delta: 0, trade: 0 };
      for (const counts of Object.values(server.sent.markets)) for (const k of STORED_KINDS) total[k] += counts[k];
      return total;
    },
    close: () => server.close(),
  };
}

/** A PEM key the exchange does not know (the wrong-key fault). */
export async function foreignKey(dir: string): Promise<string> {
  const path = join(dir, 'foreign.pem');
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  await writeFile(path, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  return path;
}

export const sum = (c: KindCounts) => c.snapshot + c.delta + c.trade;

/** A `kflow` child process: stdout lines, stderr, how it ended, and its resident memory over time. */
export interface KflowProcess {
  readonly child: ChildProcess;
  readonly lines: string[];
  stderr(): string;
  /** Resolves with the exit code, or the signal that ended it. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True until the process has exited. */
  alive(): boolean;
  /** The last stdout line as JSON (the `--json` summary or error), if it is one. */
  lastJson(): Record<string, unknown> | undefined;
  /** Sends a signal (no-op once exited). */
  signal(signal: NodeJS.Signals): void;
  /** Waits for the exit; past `ms` the process is killed and `undefined` returned. */
  wait(ms: number): Promise<{ code: number | null; signal: NodeJS.Signals | null } | undefined>;
}

/**
 * `kflow <args>` as its own process from the repository root (TypeScript sources, as `pnpm kflow` runs it).
 * `INIT_CWD` is the fault's directory, so the paths the CLI resolves against the user's directory (the
 * PostgreSQL spill file) stay in it.
 */
export function spawnKflow(args: readonly string[], dir: string, env: NodeJS.ProcessEnv = {}): KflowProcess {
  const child = spawn(process.execPath, ['--conditions=@kflow/source', '--import', 'tsx', 'examples/app/src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...env, INIT_CWD: dir },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: string[] = [];
  let partial = '';
  child.stdout!.on('data', (chunk: Buffer) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop()!;
    lines.push(...parts.filter((l) => l.length > 0));
  });
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString('utf8')));
  let done = false;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolveExit) =>
    child.on('close', (code, signal) => {
      done = true;
      resolveExit({ code, signal });
    }),
  );
  return {
    child,
    lines,
    stderr: () => stderr,
    exited,
    alive: () => !done,
    lastJson: () => {
      try {
        const value: unknown = JSON.parse(lines.at(-1) ?? '');
        return typeof value === 'object' && value !== null ? (value as Record<string, unknown>) : undefined;
      } catch {
        return undefined;
      }
    },
    signal: (signal) => {
      if (!done) child.kill(signal);
    },
    wait: async (ms) => {
      let timer: NodeJS.Timeout | undefined;
      const outcome = await Promise.race([exited, new Promise<undefined>((done) => (timer = setTimeout(() => done(undefined), ms)))]);
      clearTimeout(timer);
      if (outcome === undefined) {
        child.kill('SIGKILL');
        await exited;
      }
      return outcome;
    },
  };
}

/** `code 0`, `code 1` or `SIGKILL`: how a process ended, for notes. */
export function describeExit(e: { code: number | null; signal: NodeJS.Signals | null } | undefined): string {
  if (e === undefined) return 'hung (killed)';
  return e.signal !== null ? e.signal : `code ${e.code}`;
}

/** Resident set size of a process in bytes (Linux `/proc`), or undefined where it cannot be read. */
export async function rssBytes(pid: number): Promise<number | undefined> {
  try {
    const kb = /VmRSS:\s+(\d+)\s+kB/.exec(await readFile(`/proc/${pid}/status`, 'utf8'));
    return kb === null ? undefined : Number(kb[1]) * 1024;
  } catch {
    return undefined;
  }
}

/** Polls `cond` every 20 ms; false once `ms` passed without it holding. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!cond()) {
    if (performance.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/** Where the collector writes: its CLI flags, and a way to count a session's stored rows afterwards. */
export interface Storage {
  readonly engine: 'pglite' | 'postgres';
  /** `--data-dir DIR` or `--db URL` (through the proxy, when there is one). */
  readonly args: readonly string[];
  /** Opens the database (directly, never through the proxy). */
  open(): Promise<IngestDatabase>;
}

export function pgliteStorage(dataDir: string): Storage {
  return { engine: 'pglite', args: ['--data-dir', dataDir], open: () => openPglite({ dataDir }) };
}

export function postgresStorage(url: string, viaPort?: number): Storage {
  const via = new URL(url);
  if (viaPort !== undefined) {
    via.hostname = '127.0.0.1';
    via.port = String(viaPort);
  }
  return { engine: 'postgres', args: ['--db', via.toString()], open: () => connectPostgres({ url }) };
}

/** One session's rows: what the collector says it applied (final only after a clean stop) and what is stored. */
export interface SessionRows {
  readonly id: string;
  readonly status: string;
  readonly applied: KindCounts;
  readonly stored: KindCounts;
  /**
   * Frames missing before the last stored one of their subscription: every sequenced frame of a sid
   * (seq 1, 2, ...) is a stored kind here, so the rows of a sid without holes are exactly seq 1..max.
   * A loss at the end of a session (a kill) leaves none.
   */
  readonly holes: number;
}

/**
 * The sessions recorded from `wsUrl` since `sinceMs` (an exchange's port is unique while it runs, and
 * the start time rules out older sessions from a port used before). `drop` deletes them afterwards, so
 * a shared PostgreSQL database does not keep the suite's rows.
 */
export async function sessionsOf(storage: Storage, wsUrl: string, sinceMs: number, drop: boolean): Promise<SessionRows[]> {
  const db = await storage.open();
  try {
    const { rows } = await db.query(
      `SELECT id, status, snapshots, deltas, trades,
         (SELECT count(*) FROM orderbook_snapshots t WHERE t.session_id = s.id) AS stored_snapshots,
         (SELECT count(*) FROM orderbook_deltas t WHERE t.session_id = s.id) AS stored_deltas,
         (SELECT count(*) FROM trades t WHERE t.session_id = s.id) AS stored_trades
       FROM sessions s WHERE ws_url = $1 AND started_ms >= $2 ORDER BY started_ms`,
      [wsUrl, sinceMs],
    );
    const found: SessionRows[] = [];
    for (const r of rows as Record<string, unknown>[]) {
      const id = String(r.id);
      const { rows: holes } = await db.query(
        `SELECT coalesce(sum(top - n), 0) AS holes FROM (
           SELECT max(seq) AS top, count(*) AS n FROM (
             SELECT conn, sid, seq FROM orderbook_snapshots WHERE session_id = $1
             UNION ALL SELECT conn, sid, seq FROM orderbook_deltas WHERE session_id = $1
             UNION ALL SELECT conn, sid, seq FROM trades WHERE session_id = $1) f
           GROUP BY conn, sid) g`,
        [id],
      );
      found.push({
        id,
        status: String(r.status),
        applied: { snapshot: Number(r.snapshots), delta: Number(r.deltas), trade: Number(r.trades) },
        stored: { snapshot: Number(r.stored_snapshots), delta: Number(r.stored_deltas), trade: Number(r.stored_trades) },
        holes: Number((holes[0] as { holes: unknown }).holes),
      });
    }
    if (drop && found.length > 0) {
      const ids = found.map((s) => s.id);
      for (const table of ['orderbook_snapshots', 'orderbook_deltas', 'trades', 'market_lifecycle']) {
        await db.query(`DELETE FROM ${table} WHERE session_id = ANY($1::text[])`, [ids]);
      }
      await db.query('DELETE FROM sessions WHERE id = ANY($1::text[])', [ids]);
    }
    return found;
  } finally {
    await db.close();
  }
}

/** A TCP proxy to PostgreSQL that a fault can cut, as if the server stopped, and restore. */
export interface TcpProxy {
  readonly port: number;
  /** Local ports of the proxy's server-side connections: `client_port` of the backends it carries. */
  upstreamPorts(): number[];
  /** Stops listening (new connections are refused) and drops every open connection. */
  cut(): Promise<void>;
  /** Listens again on the same port. */
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpProxy(targetUrl: string): Promise<TcpProxy> {
  const target = new URL(targetUrl);
  const pairs = new Set<readonly [Socket, Socket]>();
  const server = createServer((client) => {
    const upstream = connect(Number(target.port || 5432), target.hostname || '127.0.0.1');
    const pair = [client, upstream] as const;
    pairs.add(pair);
    const drop = () => {
      client.destroy();
      upstream.destroy();
      pairs.delete(pair);
    };
    for (const s of pair) s.on('error', drop).on('close', drop);
    client.pipe(upstream).pipe(client);
  });
  let port = 0;
  const listen = () =>
    new Promise<void>((done, fail) => {
      server.once('error', fail);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', fail);
        port = (server.address() as AddressInfo).port;
        done();
      });
    });
  const cut = async () => {
    if (!server.listening) return;
    const closed = new Promise<void>((done) => server.close(() => done()));
    for (const [client, upstream] of pairs) {
      client.destroy();
      upstream.destroy();
    }
    pairs.clear();
    await closed;
  };
  await listen();
  return {
    get port() {
      return port;
    },
    upstreamPorts: () => [...pairs].flatMap(([, upstream]) => (upstream.localPort === undefined ? [] : [upstream.localPort])),
    cut,
    restore: listen,
    close: cut,
  };
}

/** Runs `tasks` with at most `limit` at once; results in task order. */
export async function pool<T>(tasks: readonly (() => Promise<T>)[], limit: number): Promise<T[]> {
  const results: T[] = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, worker));
  return results;
}
