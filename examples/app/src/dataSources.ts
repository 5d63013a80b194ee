import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { createSessionLoader, type SessionSummary } from '@kflow/ingest';
import { type SessionData, sessionDataFromCapture } from '@kflow/orderbook';
import { openStorage } from './commands/collect';
import { userPath } from './flags';

/** The first malformed lines of a capture are reported one by one; the rest are counted. */
const REPORTED_LINES = 5;

/** What a capture file held that could not be used. */
export interface CaptureProblems {
  readonly file: string;
  readonly malformed: number;
  /** `file:line: reason` of the first few. */
  readonly first: readonly string[];
}

/**
 * Streams a JSONL capture into the env's `SessionData` (session id = file name). Malformed lines are
 * skipped and reported with file and line (the first few, then a count); with `strict` the first one is
 * fatal.
 */
export async function loadCaptureSession(path: string, options: { readonly strict?: boolean } = {}): Promise<{ session: SessionData; problems: CaptureProblems }> {
  const file = userPath(path);
  try {
    await access(file);
  } catch {
    throw new Error(`capture ${path} not found (looked at ${file})`);
  }
  const first: string[] = [];
  let malformed = 0;
  const lines = createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  const session = await sessionDataFromCapture(lines, {
    id: basename(file),
    onError: (error, line) => {
      malformed++;
      if (options.strict) {
        lines.close();
        throw new Error(`${path}:${line}: ${error.message} (--strict: malformed input is fatal)`);
      }
      if (first.length < REPORTED_LINES) first.push(`${path}:${line}: ${error.message}`);
    },
  });
  return { session, problems: { file: path, malformed, first } };
}

/** `--data FILE` (repeatable, comma-separated) plus positional arguments: capture paths. */
export function capturePaths(data: string | string[] | undefined, positional: readonly string[] = []): string[] {
  const fromOption = data === undefined ? [] : (Array.isArray(data) ? data : [data]).flatMap((d) => String(d).split(','));
  return [...fromOption, ...positional].map((p) => p.trim()).filter((p) => p.length > 0);
}

/**
 * The recorded sessions `--session` names: ids (comma-separated or repeated), `latest` (the newest
 * finished session), `latest:N` (the newest N finished ones) or `all` (every finished session). Finished
 * is `completed` or `interrupted` (its collector died: its data, up to where it ends, is final); a session
 * still `recording` is only loaded by its id.
 */
export function selectSessions(list: readonly SessionSummary[], spec: string | string[]): SessionSummary[] {
  const parts = (Array.isArray(spec) ? spec : [spec]).flatMap((s) => String(s).split(',')).map((s) => s.trim()).filter(Boolean);
  const finished = list.filter((s) => s.status === 'completed' || s.status === 'interrupted'); // newest first
  const chosen: SessionSummary[] = [];
  for (const part of parts) {
    const latest = /^latest(?::(\d+))?$/.exec(part);
    if (part === 'all') chosen.push(...finished);
    else if (latest !== null) {
      const n = latest[1] === undefined ? 1 : Number(latest[1]);
      if (!(n >= 1)) throw new Error(`--session ${part}: N must be at least 1`);
      if (finished.length === 0) throw new Error('no finished session recorded yet: run `kflow collect` first');
      chosen.push(...finished.slice(0, n));
    } else {
      const found = list.find((s) => s.id === part);
      if (found === undefined) throw new Error(`no session ${part} (kflow sessions lists them)`);
      chosen.push(found);
    }
  }
  return [...new Map(chosen.map((s) => [s.id, s])).values()];
}

/** Where `train`, `eval` and `env-check` read market data from (as cac parses the flags). */
export interface DataSourceOptions {
  data?: string | string[];
  session?: string | string[];
  db?: string;
  dataDir?: string;
  strict?: boolean;
}

/** Sessions loaded for a command, with what was skipped on the way. */
export interface LoadedData {
  readonly sessions: SessionData[];
  /** `capture:<file>` or `session:<id>` per source, for reports and checkpoints. */
  readonly sources: string[];
  readonly problems: CaptureProblems[];
}

/**
 * Loads captures (`--data`, positional) or recorded sessions (`--session` from `--db` / `--data-dir`),
 * never both. Returns undefined when neither is given (the command's other mode, e.g. CartPole).
 */
export async function loadData(o: DataSourceOptions, positional: readonly string[] = []): Promise<LoadedData | undefined> {
  const captures = capturePaths(o.data, positional);
  if (captures.length > 0 && o.session !== undefined) throw new Error('use either capture files (--data) or recorded sessions (--session), not both');
  if (captures.length > 0) {
    const loaded = [];
    for (const path of captures) loaded.push(await loadCaptureSession(path, { strict: o.strict === true }));
    return { sessions: loaded.map((l) => l.session), sources: captures.map((c) => `capture:${basename(c)}`), problems: loaded.map((l) => l.problems).filter((p) => p.malformed > 0) };
  }
  if (o.session === undefined) return undefined;
  const storage = await openStorage(o);
  try {
    const loader = createSessionLoader({ db: storage.db });
    const chosen = selectSessions(await loader.list(), o.session);
    const sessions = [];
    for (const s of chosen) sessions.push(await loader.load(s.id));
    return { sessions, sources: chosen.map((s) => `session:${s.id}`), problems: [] };
  } finally {
    await storage.db.close();
  }
}

/** Says on stderr what was skipped (unless `quiet`): the first malformed lines, then the count. */
export function reportProblems(problems: readonly CaptureProblems[], quiet: boolean): void {
  if (quiet) return;
  for (const p of problems) {
    for (const line of p.first) process.stderr.write(`warning: ${line}\n`);
    if (p.malformed > p.first.length) process.stderr.write(`warning: ${p.file}: ${p.malformed - p.first.length} more malformed lines skipped (--strict makes them fatal)\n`);
  }
}
