/**
 * The collector's fault table: each fault runs the real `kflow collect` against a simulator exchange that
 * counts what it sends, breaks something, and compares frames sent with rows stored. docs/guides/faults.md
 * explains every row and the accounting.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connectPostgres } from '@kflow/ingest/pg';
import type { SpeedFactor } from '@kflow/sim';
import { LOOP_DELAY_P99_TARGET_MS } from '../loopDelay';
import {
  type Exchange,
  type FaultSize,
  type KflowProcess,
  type KindCounts,
  type SessionRows,
  type Storage,
  type TcpProxy,
  STORED_KINDS,
  describeExit,
  foreignKey,
  pgliteStorage,
  pool,
  postgresStorage,
  rssBytes,
  sessionsOf,
  sleep,
  spawnKflow,
  startExchange,
  startTcpProxy,
  sum,
  until,
} from './harness';

export type Engine = 'pglite' | 'postgres';

/** One fault on one engine, as `kflow faults` reports it. */
export interface FaultRow {
  readonly fault: string;
  readonly engine: Engine;
  /** Frames of the stored kinds (snapshots, deltas, trades) the exchange sent to the collector. */
  readonly sent: number;
  /** Rows of those kinds the database holds for the collector's session(s), after any recovery the fault prescribes. */
  readonly stored: number;
  readonly lost: number;
  /**
   * Most rows the fault may lose: after a clean stop, the frames still unread in the socket when the
   * collector closed it; for SIGKILL, the guide's bound ('undocumented' while it states none); else 0.
   */
  readonly bound: number | 'undocumented';
  readonly held: boolean;
  /** Why the fault did not run (it then neither held nor failed). */
  readonly skipped?: string;
  readonly note: string;
}

/** What a fault's run decides; `lost` is derived. */
type Outcome = Omit<FaultRow, 'fault' | 'engine' | 'lost' | 'skipped'>;

/** Time a collector gets to shut down after a signal before it counts as hung (and is killed). */
const SHUTDOWN_MS = 90_000;
/** Time `kflow recover` gets: a max-speed run leaves millions of rows to replay at the database's write speed. */
const RECOVER_MS = 600_000;
/** Time a collector gets to connect, subscribe and receive its first frame. */
const START_MS = 60_000;

/** One fault's resources: its directory, storage, exchanges and processes (all released by `dispose`). */
class FaultContext {
  /** Sessions older than this are not the fault's. */
  readonly startedMs = Date.now();
  private readonly exchanges: Exchange[] = [];
  private readonly processes: KflowProcess[] = [];

  constructor(
    readonly size: FaultSize,
    readonly dir: string,
    readonly storage: Storage,
    /** With `proxy: true`: the proxy the collector reaches PostgreSQL through, and the server's own URL. */
    readonly postgres: { readonly proxy: TcpProxy; readonly url: string } | undefined,
    readonly seed: number,
  ) {}

  async exchange(speed: SpeedFactor = this.size.speed): Promise<Exchange> {
    const ex = await startExchange(this.dir, this.size, this.seed + this.exchanges.length, speed);
    this.exchanges.push(ex);
    return ex;
  }

  kflow(args: readonly string[], env: NodeJS.ProcessEnv = {}): KflowProcess {
    const p = spawnKflow(args, this.dir, env);
    this.processes.push(p);
    return p;
  }

  /** `kflow collect --json` from `ex` into this fault's storage (not yet waited for). */
  collect(ex: Exchange, extra: readonly string[] = [], env: NodeJS.ProcessEnv = ex.env): KflowProcess {
    return this.kflow(['collect', '--source', ex.url, '--markets', ex.tickers.join(','), '--json', ...this.storage.args, ...extra], env);
  }

  /** Starts a collector and waits until frames flow to it; throws with its stderr when it does not start. */
  async collecting(ex: Exchange, extra: readonly string[] = []): Promise<KflowProcess> {
    const p = this.collect(ex, extra);
    if (!(await until(() => sum(ex.sent()) > 0 || !p.alive(), START_MS)) || !p.alive()) {
      throw new Error(`the collector did not start: ${describeExit(await p.wait(5000))}: ${lastLine(p.stderr())}`);
    }
    return p;
  }

  /** The sessions recorded from `ex` (since the fault began). */
  sessions(ex: Exchange): Promise<SessionRows[]> {
    return sessionsOf(this.storage, ex.url, this.startedMs, false);
  }

  /** Frames `ex` sent against rows stored for its sessions. */
  async tally(ex: Exchange): Promise<{ sent: KindCounts; stored: KindCounts; holes: number; sessions: SessionRows[] }> {
    const sessions = await this.sessions(ex);
    const stored: KindCounts = { snapshot: 0, delta: 0, trade: 0 };
    for (const s of sessions) for (const k of STORED_KINDS) stored[k] += s.stored[k];
    return { sent: ex.sent(), stored, holes: sessions.reduce((n, s) => n + s.holes, 0), sessions };
  }

  /**
   * The recovery a user runs after a shutdown that left rows in a spill file: `kflow recover`, or where
   * this CLI has no such command (it then prints its help, not the report), the next `kflow collect` on
   * the same storage, which replays the spill before it exits.
   */
  async recover(): Promise<string> {
    const r = this.kflow(['recover', '--json', ...this.storage.args]);
    const exit = await r.wait(RECOVER_MS);
    const report = r.lastJson() as { spills?: { rows: number; complete: boolean; error?: string }[] } | undefined;
    if (report?.spills !== undefined) {
      const rows = report.spills.reduce((n, s) => n + s.rows, 0);
      const unfinished = report.spills.filter((s) => !s.complete).map((s) => s.error ?? 'incomplete');
      return `kflow recover replayed ${report.spills.length} spill files, ${rows} rows (${describeExit(exit)}${unfinished.length === 0 ? '' : `: ${unfinished.join('; ')}`})`;
    }
    const p = this.collect(await this.exchange(), ['--duration', '2']);
    const next = await p.wait(SHUTDOWN_MS);
    return `replayed by the next collect (${describeExit(next)}${next?.code === 0 ? '' : `: ${lastLine(p.stderr())}`})`;
  }

  /** "; stored N at exit, <recovery>": runs {@link recover} when rows of `ex` are missing after its collector exited. */
  async recoverIfShort(ex: Exchange): Promise<string> {
    const atExit = sum((await this.tally(ex)).stored);
    return `; stored ${atExit} at exit${atExit < sum(ex.sent()) ? `, ${await this.recover()}` : ''}`;
  }

  async dispose(): Promise<void> {
    for (const p of this.processes) if (p.alive()) await p.wait(0);
    await this.postgres?.proxy.close();
    for (const ex of this.exchanges) {
      await ex.close();
      // A shared PostgreSQL database keeps none of the suite's sessions.
      if (this.storage.engine === 'postgres') await sessionsOf(this.storage, ex.url, this.startedMs, true).catch(() => []);
    }
    await rm(this.dir, { recursive: true, force: true });
  }
}

const lastLine = (text: string) => text.trim().split('\n').at(-1) ?? '';

/** " (by kind: delta 10, trade 2; 3 holes)": where sent and stored differ, by kind, and rows missing mid-stream. */
function lossByKind(t: { sent: KindCounts; stored: KindCounts; holes: number }): string {
  const parts = STORED_KINDS.filter((k) => t.sent[k] !== t.stored[k]).map((k) => `${k} ${t.sent[k] - t.stored[k]}`);
  const holes = t.holes === 0 ? '' : `; ${t.holes} holes`;
  return parts.length === 0 ? holes : ` (by kind: ${parts.join(', ')}${holes})`;
}

/**
 * The row of a fault that must exit (with 0 unless `anyExit`) with one session and lose nothing it read. A clean stop closes the
 * socket and writes every row it read (docs/guides/collecting-data.md): frames still unread in the socket
 * then are the session's end, not a loss, so they are the bound, counted from the collector's own totals
 * (final once its session is `completed`). Any other session state allows no loss at all.
 */
async function lossless(ctx: FaultContext, ex: Exchange, exit: Awaited<ReturnType<KflowProcess['wait']>>, note = '', anyExit = false): Promise<Outcome & { bound: number }> {
  const t = await ctx.tally(ex);
  const [sent, stored] = [sum(t.sent), sum(t.stored)];
  const status = t.sessions.map((s) => s.status).join(',') || 'no session';
  const completed = t.sessions.length === 1 && t.sessions[0]!.status === 'completed';
  const unread = completed ? sent - sum(t.sessions[0]!.applied) : 0;
  return {
    sent,
    stored,
    bound: unread,
    held: exit !== undefined && (anyExit || exit.code === 0) && t.sessions.length === 1 && t.holes === 0 && sent - stored <= unread,
    note:
      `${describeExit(exit)}; session ${status}${lossByKind(t)}` +
      `${unread === 0 ? '' : `; ${unread} never read (in the socket when it closed), ${sent - stored - unread} read but not stored`}${note}`,
  };
}

/** Collect, send `signal`, wait for a clean exit; nothing may be lost. */
async function signalFault(ctx: FaultContext, signal: NodeJS.Signals): Promise<Outcome> {
  const ex = await ctx.exchange();
  const p = await ctx.collecting(ex);
  await sleep(ctx.size.collectMs);
  p.signal(signal);
  return lossless(ctx, ex, await p.wait(SHUTDOWN_MS));
}

/**
 * The guide's bound on what a SIGKILL loses, as a window of time before the kill, read from
 * docs/guides/collecting-data.md (a sentence naming SIGKILL and a duration). Undefined while it states none.
 */
async function documentedKillWindowMs(): Promise<number | undefined> {
  const guide = await readFile(resolve(import.meta.dirname, '../../../../docs/guides/collecting-data.md'), 'utf8');
  const m = /SIGKILL[^.]*?(\d+(?:\.\d+)?)\s*(ms|milliseconds?|s|seconds?)\b/i.exec(guide);
  if (m === null) return undefined;
  return Number(m[1]) * (m[2]!.startsWith('m') ? 1 : 1000);
}

/**
 * Collects for the guide's window plus `collectMs` (so rows older than the window exist and must be
 * stored), SIGKILLs the collector, and returns the bound in rows: the frames sent from the window before
 * the kill on (from samples of the exchange's count every 20 ms), including those sent after the kill.
 */
async function killDuringCollection(ctx: FaultContext, ex: Exchange, p: KflowProcess) {
  const windowMs = await documentedKillWindowMs();
  const samples: [number, number][] = [];
  const sampler = setInterval(() => samples.push([performance.now(), sum(ex.sent())]), 20);
  await sleep(ctx.size.collectMs + (windowMs ?? 0));
  const killedAt = performance.now();
  p.signal('SIGKILL');
  await p.exited;
  // Frames written after the kill reach no process: they are part of the loss the bound must cover.
  await until(() => ex.server.connections === 0, 5000);
  clearInterval(sampler);
  const sentBefore = (t: number) => samples.findLast(([at]) => at <= t)?.[1] ?? 0;
  const bound = windowMs === undefined ? ('undocumented' as const) : sum(ex.sent()) - sentBefore(killedAt - windowMs);
  return { bound, windowMs };
}

/** A kill holds when the loss is within the bound and is the end of the session (no holes before it). */
function killHeld(t: { sent: KindCounts; stored: KindCounts; holes: number }, bound: number | 'undocumented'): boolean {
  return bound !== 'undocumented' && t.holes === 0 && sum(t.sent) - sum(t.stored) <= bound;
}

/** The fault names `--only` takes. */
export const FAULT_NAMES = [
  'sigterm',
  'sigint',
  'double-sigint',
  'sigkill',
  'backend-kill',
  'server-restart',
  'outage-shutdown',
  'two-writers',
  'reader',
  'max-speed',
  'wrong-key',
  'unknown-ticker',
] as const;
export type FaultName = (typeof FAULT_NAMES)[number];

interface Fault {
  readonly name: FaultName;
  readonly engines: readonly Engine[];
  /** PostgreSQL through a TCP proxy this process runs (only where the fault needs it: it adds latency). */
  readonly proxy?: true;
  run(ctx: FaultContext): Promise<Outcome>;
}

const BOTH: readonly Engine[] = ['pglite', 'postgres'];

const FAULTS: readonly Fault[] = [
  {
    // First: the longest (an outage and a shutdown timeout), so the pool finishes together.
    name: 'outage-shutdown',
    engines: ['postgres'],
    proxy: true,
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = await ctx.collecting(ex, ['--shutdown-timeout', String(ctx.size.shutdownTimeoutS)]);
      await sleep(ctx.size.collectMs);
      await ctx.postgres!.proxy.cut();
      await sleep(ctx.size.collectMs);
      const signalled = performance.now();
      p.signal('SIGINT');
      const exit = await p.wait(SHUTDOWN_MS);
      const exitMs = Math.round(performance.now() - signalled);
      await ctx.postgres!.proxy.restore();
      // The shutdown may fail (the database is down): the fault holds when every row arrives after the recovery.
      return lossless(ctx, ex, exit, `; exited ${exitMs} ms after SIGINT${await ctx.recoverIfShort(ex)}`, true);
    },
  },
  {
    name: 'max-speed',
    engines: BOTH,
    async run(ctx) {
      const ex = await ctx.exchange('max');
      const p = await ctx.collecting(ex, ['--duration', String(ctx.size.maxSpeedMs / 1000)]);
      const rss: number[] = [];
      while (p.alive()) {
        const bytes = await rssBytes(p.child.pid!);
        if (bytes !== undefined && p.alive()) rss.push(bytes);
        await sleep(250);
      }
      const exit = await p.wait(SHUTDOWN_MS);
      const mb = (b: number | undefined) => (b === undefined ? '?' : `${Math.round(b / 2 ** 20)}`);
      const max = (xs: readonly number[]) => (xs.length === 0 ? undefined : Math.max(...xs));
      // Flat: the second half's peak at most 20% above the first half's (a leak raises it; GC sawtooth and
      // start-up allocation do not).
      const [firstPeak, secondPeak] = [max(rss.slice(0, rss.length >> 1)), max(rss.slice(rss.length >> 1))];
      const flat = firstPeak !== undefined && secondPeak !== undefined && secondPeak <= firstPeak * 1.2;
      // The collector's own measure of its event loop while collecting (`kflow collect --json`).
      const delay = (p.lastJson() ?? {}).eventLoopDelayMs as { p99: number; max: number } | undefined;
      const quick = delay !== undefined && delay.p99 <= LOOP_DELAY_P99_TARGET_MS;
      const loop =
        delay === undefined ? 'event-loop delay not reported' : `event-loop delay p99 ${delay.p99} ms, max ${delay.max} (target p99 ≤ ${LOOP_DELAY_P99_TARGET_MS})`;
      const rate = Math.round(sum(ex.sent()) / (ctx.size.maxSpeedMs / 1000));
      const recovery = await ctx.recoverIfShort(ex);
      // A database slower than the feed leaves rows in the spill file at the stop (exit 1): they count once recovered.
      const out = await lossless(
        ctx,
        ex,
        exit,
        `${recovery}; ${rate} frames/s; RSS MB start ${mb(rss[0])} end ${mb(rss.at(-1))} max ${mb(max(rss))}, peak first half ${mb(firstPeak)} second half ${mb(secondPeak)} ` +
          `(${flat ? 'flat' : 'growing'}); ${loop}${ctx.size.judgeMaxSpeed ? '' : '; RSS and delay not judged at this size'}`,
        true,
      );
      return { ...out, held: out.held && ((flat && quick) || !ctx.size.judgeMaxSpeed) };
    },
  },
  { name: 'sigterm', engines: BOTH, run: (ctx) => signalFault(ctx, 'SIGTERM') },
  { name: 'sigint', engines: BOTH, run: (ctx) => signalFault(ctx, 'SIGINT') },
  {
    name: 'double-sigint',
    engines: BOTH,
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = await ctx.collecting(ex);
      await sleep(ctx.size.collectMs);
      p.signal('SIGINT');
      await sleep(20);
      const during = p.alive();
      p.signal('SIGINT');
      const exit = await p.wait(SHUTDOWN_MS);
      // A second Ctrl-C may cut the shutdown short (any exit code); what it left must still arrive.
      const out = await lossless(ctx, ex, exit, `; second SIGINT ${during ? 'during shutdown' : 'after exit (not exercised)'}${await ctx.recoverIfShort(ex)}`, true);
      return { ...out, held: out.held && during };
    },
  },
  {
    name: 'sigkill',
    engines: BOTH,
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = await ctx.collecting(ex);
      const { bound, windowMs } = await killDuringCollection(ctx, ex, p);
      const t = await ctx.tally(ex);
      return {
        sent: sum(t.sent),
        stored: sum(t.stored),
        bound,
        held: killHeld(t, bound),
        note:
          (windowMs === undefined ? 'docs/guides/collecting-data.md states no bound for SIGKILL' : `bound: frames sent in the last ${windowMs} ms before the kill and after it`) +
          `${lossByKind(t)}; session ${t.sessions.map((s) => s.status).join(',')}`,
      };
    },
  },
  {
    name: 'backend-kill',
    engines: ['postgres'],
    proxy: true,
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = await ctx.collecting(ex);
      const admin = await connectPostgres({ url: ctx.postgres!.url, applicationName: 'kflow-faults', maxConnections: 1 });
      let terminated = 0;
      try {
        for (let i = 0; i < ctx.size.backendKills; i++) {
          await sleep(ctx.size.collectMs / 2);
          const { rows } = await admin.query(
            "SELECT count(pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE application_name = 'kflow' AND client_port = ANY($1::int[])",
            [ctx.postgres!.proxy.upstreamPorts()],
          );
          terminated += Number((rows[0] as { n: unknown }).n);
        }
      } finally {
        await admin.close();
      }
      await sleep(ctx.size.collectMs);
      p.signal('SIGTERM');
      const out = await lossless(ctx, ex, await p.wait(SHUTDOWN_MS), `; ${terminated} backends terminated in ${ctx.size.backendKills} rounds`);
      return { ...out, held: out.held && terminated > 0 };
    },
  },
  {
    name: 'server-restart',
    engines: ['postgres'],
    proxy: true,
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = await ctx.collecting(ex);
      await sleep(ctx.size.collectMs);
      await ctx.postgres!.proxy.cut();
      await sleep(ctx.size.outageMs);
      await ctx.postgres!.proxy.restore();
      await sleep(ctx.size.collectMs);
      p.signal('SIGTERM');
      return lossless(ctx, ex, await p.wait(SHUTDOWN_MS), `; server unreachable for ${ctx.size.outageMs} ms`);
    },
  },
  {
    name: 'two-writers',
    engines: ['pglite'],
    async run(ctx) {
      const first = await ctx.exchange();
      const a = await ctx.collecting(first);
      await sleep(ctx.size.collectMs);
      const second = await ctx.exchange();
      const b = ctx.collect(second);
      await until(() => !b.alive() || sum(second.sent()) > 0, START_MS);
      await sleep(ctx.size.collectMs);
      // The first stops while the second runs on: a second that shares the directory must outlive its owner.
      a.signal('SIGTERM');
      const exitA = await a.wait(SHUTDOWN_MS);
      await sleep(ctx.size.collectMs);
      b.signal('SIGTERM');
      const exitB = await b.wait(SHUTDOWN_MS);
      const refused = (b.lastJson()?.error as { code?: unknown } | undefined)?.code === 'DATABASE_LOCKED';
      const outA = await lossless(ctx, first, exitA);
      const outB = await lossless(ctx, second, exitB);
      return {
        sent: outA.sent + outB.sent,
        stored: outA.stored + outB.stored,
        bound: outA.bound + outB.bound,
        // The second either is refused with DATABASE_LOCKED (sending it nothing) or stores everything too.
        held: outA.held && (refused ? outB.sent === 0 : outB.held),
        note: `first: ${outA.note}; second: ${refused ? `refused with DATABASE_LOCKED (${describeExit(exitB)})` : outB.note}`,
      };
    },
  },
  {
    name: 'reader',
    engines: ['pglite'],
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = await ctx.collecting(ex);
      await sleep(ctx.size.collectMs);
      const reader = ctx.kflow(['sessions', '--json', ...ctx.storage.args]);
      const readerExit = await reader.wait(START_MS);
      const answer = reader.lastJson();
      const code = (answer?.error as { code?: unknown } | undefined)?.code;
      // Either answer is clean: the sessions, or a refusal that says the directory is in use.
      const listed = readerExit?.code === 0 && Array.isArray(answer?.sessions);
      const clean = listed || (readerExit?.code === 1 && code === 'DATABASE_LOCKED');
      const collectorSurvived = p.alive();
      const { bound } = await killDuringCollection(ctx, ex, p);
      const reading = `reader: ${listed ? 'listed the sessions' : `${describeExit(readerExit)} ${String(code ?? lastLine(reader.stderr()))}`}; collector ${collectorSurvived ? 'kept running' : 'died'}`;
      try {
        const t = await ctx.tally(ex);
        return {
          sent: sum(t.sent),
          stored: sum(t.stored),
          bound,
          held: clean && collectorSurvived && t.sessions.length === 1 && killHeld(t, bound),
          note: `${reading}; the directory opens after the kill${lossByKind(t)}; loss judged as in the sigkill rows`,
        };
      } catch (error) {
        const why = error instanceof Error ? error.message : String(error);
        return { sent: sum(ex.sent()), stored: 0, bound, held: false, note: `${reading}; the directory does not open after the kill: ${why}` };
      }
    },
  },
  {
    name: 'wrong-key',
    engines: ['pglite'],
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = ctx.collect(ex, [], { ...ex.env, KALSHI_PRIVATE_KEY_PATH: await foreignKey(ctx.dir) });
      return refusal(ctx, ex, p, 'AUTH_REFUSED', 'KALSHI_PRIVATE_KEY_PATH');
    },
  },
  {
    name: 'unknown-ticker',
    engines: ['pglite'],
    async run(ctx) {
      const ex = await ctx.exchange();
      const p = ctx.kflow(['collect', '--source', ex.url, '--markets', 'NO-SUCH-MARKET', '--json', ...ctx.storage.args], ex.env);
      return refusal(ctx, ex, p, 'SUBSCRIPTION_FAILED', 'NO-SUCH-MARKET');
    },
  },
];

/** A collector that must stop at once with a typed error whose message names `mentions`. */
async function refusal(ctx: FaultContext, ex: Exchange, p: KflowProcess, code: string, mentions: string): Promise<Outcome> {
  const exit = await p.wait(START_MS);
  const error = p.lastJson()?.error as { code?: unknown; message?: unknown } | undefined;
  const t = await ctx.tally(ex);
  const message = String(error?.message ?? p.stderr().trim());
  return {
    sent: sum(t.sent),
    stored: sum(t.stored),
    bound: 0,
    held: exit !== undefined && exit.code !== 0 && error?.code === code && message.includes(mentions),
    note: `${describeExit(exit)}; ${String(error?.code ?? 'no error code')}: ${message.slice(0, 160)}`,
  };
}

/** Options of {@link runFaults}. */
export interface RunFaultsOptions {
  readonly size: FaultSize;
  /** Fault names (all engines) or `name/engine`; default every fault. */
  readonly only?: readonly string[];
  /** PostgreSQL rows are skipped without it. */
  readonly databaseUrl?: string;
  /** Called as each row is decided. */
  readonly onRow?: (row: FaultRow) => void;
}

/** The rows a run has, in run order: the selected faults (names, or `name/engine`) × their engines. */
export function faultPlan(only?: readonly string[]): { readonly fault: FaultName; readonly engine: Engine }[] {
  const unknown = (only ?? []).filter((n) => !FAULT_NAMES.includes(n.split('/')[0] as FaultName));
  if (unknown.length > 0) throw new Error(`--only: no fault ${unknown.join(', ')} (faults: ${FAULT_NAMES.join(', ')})`);
  return FAULTS.flatMap((f) =>
    f.engines.filter((e) => only === undefined || only.includes(f.name) || only.includes(`${f.name}/${e}`)).map((engine) => ({ fault: f.name, engine })),
  );
}

/** Runs the fault table (see {@link faultPlan}) and returns one row each. */
export async function runFaults(o: RunFaultsOptions): Promise<FaultRow[]> {
  return pool(
    faultPlan(o.only).map(({ fault: name, engine }) => async () => {
      // Each fault's simulator seed is fixed by its place in the table.
      const seed = FAULTS.findIndex((f) => f.name === name) + 1;
      const row = await runOne(FAULTS[seed - 1]!, engine, seed, o);
      o.onRow?.(row);
      return row;
    }),
    o.size.concurrency,
  );
}

async function runOne(fault: Fault, engine: Engine, seed: number, o: RunFaultsOptions): Promise<FaultRow> {
  const base = { fault: fault.name, engine };
  if (engine === 'postgres' && o.databaseUrl === undefined) {
    return { ...base, sent: 0, stored: 0, lost: 0, bound: 0, held: false, skipped: 'DATABASE_URL is not set', note: 'skipped: DATABASE_URL is not set' };
  }
  const dir = await mkdtemp(join(tmpdir(), `kflow-fault-${fault.name}-`));
  const proxy = engine === 'postgres' && fault.proxy ? await startTcpProxy(o.databaseUrl!) : undefined;
  const storage = engine === 'postgres' ? postgresStorage(o.databaseUrl!, proxy?.port) : pgliteStorage(join(dir, 'data'));
  const ctx = new FaultContext(o.size, dir, storage, proxy === undefined ? undefined : { proxy, url: o.databaseUrl! }, seed);
  try {
    const out = await fault.run(ctx);
    return { ...base, ...out, lost: out.sent - out.stored };
  } catch (error) {
    return { ...base, sent: 0, stored: 0, lost: 0, bound: 0, held: false, note: `harness error: ${error instanceof Error ? error.message : String(error)}` };
  } finally {
    await ctx.dispose();
  }
}
