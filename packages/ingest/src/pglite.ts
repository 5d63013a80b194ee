import { mkdir, readFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { ingestError } from './errors';
import {
  encodeFrame,
  frameDecoder,
  fromWireError,
  ownerAddress,
  type HostInput,
  type HostReply,
  type HostRequest,
  type HostStartup,
  type PgliteOwner,
} from './pgliteProtocol';
import { unnestInsert, type IngestDatabase } from './queryable';

export type { PgliteOwner } from './pgliteProtocol';

/** Options of {@link openPglite}. */
export interface OpenPgliteOptions {
  /** Data directory (created if missing); omit for an in-memory database. */
  readonly dataDir?: string;
  /** Schema holding kflow's tables (created if missing). Default `kflow`. */
  readonly schema?: string;
}

/** The embedded database as {@link openPglite} returns it. */
export interface PgliteDatabase extends IngestDatabase {
  readonly kind: 'pglite';
  /** The process that owns the data directory: this one, or another one whose data this reaches. */
  readonly owner: PgliteOwner;
}

/**
 * Worker threads do not inherit the TypeScript loader the sources run under, so from sources a boot file
 * registers tsx first; the built package ships the host as plain JavaScript next to this file.
 */
const HOST: { readonly url: URL; readonly execArgv: string[] | undefined } = import.meta.url.endsWith('.ts')
  ? { url: new URL('./pgliteHost.boot.mjs', import.meta.url), execArgv: ['--conditions=@kflow/source'] }
  : { url: new URL('./pgliteHost.js', import.meta.url), execArgv: undefined };

/** How long the owner of a directory may take to answer before it is reported as unresponsive. */
const HELLO_TIMEOUT_MS = 5000;
/** How long a request waits for a closing owner to hand the directory over. */
const HANDOVER_TIMEOUT_MS = 30_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const isClosingOwner = (error: unknown) => (error as { code?: unknown } | null)?.code === 'OWNER_CLOSING';

type Request = HostRequest extends infer R ? (R extends { id: number } ? Omit<R, 'id'> : never) : never;

/** A way to reach the host: this process's worker, or another process's socket. */
interface Link {
  owner: PgliteOwner;
  request(request: Request): Promise<unknown>;
  /** LISTEN handlers by the host's subscription id. */
  readonly notify: Map<number, (payload: string) => void>;
  /** Called once when the link breaks (the worker or the owning process went away). */
  onBreak: (error: Error) => void;
  close(): Promise<void>;
}

/**
 * Request bookkeeping shared by both links. The link holds the process open only while a request is in
 * flight, so a program that forgets to close the database still exits (as it would with PGlite inline).
 */
function requests(send: (message: HostRequest) => void, hold: (on: boolean) => void) {
  const pending = new Map<number, { resolve(value: unknown): void; reject(error: Error): void }>();
  let next = 1;
  let broken: Error | undefined;
  let closingNotice = false;
  return {
    request(request: Request): Promise<unknown> {
      if (broken !== undefined) return Promise.reject(broken);
      const id = next++;
      if (pending.size === 0) hold(true);
      return new Promise((resolve, reject) => {
        pending.set(id, { resolve, reject });
        send({ ...request, id } as HostRequest);
      });
    },
    receive(reply: HostReply, notify: Map<number, (payload: string) => void>): void {
      if ('notice' in reply) {
        closingNotice = true;
        return;
      }
      if (!('id' in reply)) {
        notify.get(reply.listenId)?.(reply.payload);
        return;
      }
      const p = pending.get(reply.id);
      if (p === undefined) return;
      pending.delete(reply.id);
      if (pending.size === 0) hold(false);
      if (reply.ok) p.resolve(reply.value);
      else p.reject(fromWireError(reply.error));
    },
    /**
     * Fails every request in flight and every later one. After the owner's closing notice, requests left
     * unanswered were never run, so they fail as `OWNER_CLOSING` and are sent again to the next owner.
     */
    fail(error: Error): void {
      if (closingNotice) error = Object.assign(new Error(`${error.message} (it was closing)`), { code: 'OWNER_CLOSING' });
      broken ??= error;
      for (const p of pending.values()) p.reject(error);
      if (pending.size > 0) hold(false);
      pending.clear();
    },
  };
}

/** Starts the host worker; `busy` when another process became the owner first. */
async function startHost(input: HostInput): Promise<Link | 'busy'> {
  const worker = new Worker(HOST.url, { workerData: input, ...(HOST.execArgv ? { execArgv: HOST.execArgv } : {}) });
  let settle: (startup: HostStartup) => void = () => {};
  const startup = await new Promise<HostStartup>((resolve) => {
    settle = resolve;
    worker.on('message', settle);
    worker.on('error', onStartError);
    worker.on('exit', onStartExit);
  });
  function onStartError(error: Error) {
    settle({ type: 'failed', error: { name: error.name, message: error.message } });
  }
  function onStartExit(code: number) {
    settle({ type: 'failed', error: { name: 'Error', message: `the database worker exited with code ${code}` } });
  }
  // Only these: the worker's own listeners (which start its message port) must stay.
  worker.off('message', settle).off('error', onStartError).off('exit', onStartExit);
  if (startup.type !== 'ready') {
    await worker.terminate();
    if (startup.type === 'busy') return 'busy';
    throw fromWireError(startup.error);
  }
  const notify = new Map<number, (payload: string) => void>();
  const r = requests(
    (message) => worker.postMessage(message),
    (on) => (on ? worker.ref() : worker.unref()),
  );
  worker.unref();
  const link: Link = {
    owner: startup.owner,
    request: r.request,
    notify,
    onBreak: () => {},
    close: async () => {
      await r.request({ op: 'close' });
      r.fail(ingestError('DATABASE_UNAVAILABLE', 'the embedded database is closed'));
      await worker.terminate();
    },
  };
  worker.on('message', (reply: HostReply) => r.receive(reply, notify));
  const broke = (error: Error) => {
    r.fail(error);
    link.onBreak(error);
  };
  worker.on('error', (error) => broke(ingestError('DATABASE_UNAVAILABLE', `the embedded database's worker failed: ${error.message}`, { cause: error })));
  worker.on('exit', (code) => broke(ingestError('DATABASE_UNAVAILABLE', `the embedded database's worker exited (code ${code})`)));
  return link;
}

/** Connects to the process that owns the directory; undefined when nobody listens there. */
async function connectOwner(address: string, schema: string, dataDir: string): Promise<Link | 'closing' | undefined> {
  const socket = connect(address);
  const connected = await new Promise<boolean>((resolve) => {
    socket.once('connect', () => resolve(true));
    socket.once('error', () => resolve(false));
  });
  if (!connected) {
    socket.destroy();
    return undefined;
  }
  const notify = new Map<number, (payload: string) => void>();
  const r = requests(
    (message) => socket.write(encodeFrame(message)),
    (on) => (on ? socket.ref() : socket.unref()),
  );
  socket.unref();
  const decoder = frameDecoder();
  socket.on('data', (chunk) => {
    for (const reply of decoder.push(chunk)) r.receive(reply as HostReply, notify);
  });
  let closing = false;
  const link: Link = {
    owner: { pid: 0, command: '', schema },
    request: r.request,
    notify,
    onBreak: () => {},
    close: async () => {
      closing = true;
      r.fail(ingestError('DATABASE_UNAVAILABLE', 'the embedded database is closed'));
      await new Promise<void>((resolve) => socket.end(resolve));
      socket.destroy();
    },
  };
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    const error = ingestError('DATABASE_UNAVAILABLE', `the process that owned ${dataDir} closed it`);
    r.fail(error);
    if (!closing) link.onBreak(error);
  });
  let timer: NodeJS.Timeout | undefined;
  const hello = r.request({ op: 'hello', schema });
  const timeout = new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), HELLO_TIMEOUT_MS)));
  try {
    const answer = await Promise.race([hello, timeout]);
    if (answer === 'timeout') throw ingestError('DATABASE_LOCKED', await unresponsiveOwner(dataDir), { details: { dataDir } });
    link.owner = answer as PgliteOwner;
    return link;
  } catch (error) {
    socket.destroy();
    if ((error as { code?: unknown }).code === 'OWNER_CLOSING') return 'closing';
    if ((error as { code?: unknown }).code === 'SCHEMA_MISMATCH') {
      throw ingestError('DATABASE_LOCKED', `the embedded database in ${dataDir} is open in another process with another schema: ${(error as Error).message}`, {
        details: { dataDir },
      });
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** The message for an owner that holds the lock but does not answer, naming it from its lock note. */
async function unresponsiveOwner(dataDir: string): Promise<string> {
  let who = 'another process';
  try {
    const owner = JSON.parse(await readFile(join(dataDir, 'kflow.lock'), 'utf8')) as Partial<PgliteOwner>;
    who = `process ${String(owner.pid)} (${String(owner.command)})`;
  } catch {
    // No readable note: the generic name stays.
  }
  return `the embedded database in ${dataDir} is held by ${who}, which did not answer within ${HELLO_TIMEOUT_MS / 1000} s: stop it, or share a PostgreSQL server between processes (--db URL)`;
}

/**
 * Opens the embedded database: PostgreSQL compiled to WASM, in a local data directory, zero setup. The
 * schema is identical to the server's; call `migrate(db)` once after opening.
 *
 * A data directory has exactly one owner, the first process to open it: PGlite runs in a worker thread of
 * that process (so writes never block its event loop), and the owner's local socket is the directory's
 * lock. Every later `openPglite` of the same directory, from any process, reaches the owner's data through
 * that socket instead of opening the files. When the owner closes or dies, the next request of a process
 * still using the directory makes it the owner (or connects it to the new one); requests in flight at
 * that moment fail with `DATABASE_UNAVAILABLE`, and the write queues retry them. An owner that holds the
 * lock but does not answer is reported as `DATABASE_LOCKED`, naming the process.
 *
 * @example
 * const db = await openPglite({ dataDir: './kflow-data' }); await migrate(db); ... await db.close();
 */
export async function openPglite(options: OpenPgliteOptions = {}): Promise<PgliteDatabase> {
  const schema = options.schema ?? 'kflow';
  const dataDir = options.dataDir;
  const command = process.argv.slice(1).join(' ');
  if (dataDir !== undefined) await mkdir(dataDir, { recursive: true });
  const address = dataDir === undefined ? undefined : ownerAddress(dataDir);

  const acquire = async (): Promise<Link> => {
    const input: HostInput = { dataDir, address, schema, command };
    const deadline = Date.now() + HANDOVER_TIMEOUT_MS;
    // Connect to the owner, or become it; a closing owner is waited for, and a lost race is tried again.
    for (;;) {
      const remote = address !== undefined && dataDir !== undefined ? await connectOwner(address, schema, dataDir) : undefined;
      if (remote !== undefined && remote !== 'closing') return remote;
      if (remote === undefined) {
        const hosted = await startHost(input);
        if (hosted !== 'busy') return hosted;
      }
      if (Date.now() > deadline) {
        throw ingestError('DATABASE_LOCKED', `could not open or reach the owner of the embedded database in ${dataDir}: retry, or check for a process that keeps opening and closing it`, {
          details: { dataDir },
        });
      }
      await sleep(50);
    }
  };

  const listeners = new Set<(error: Error) => void>();
  let link: Link | undefined;
  let acquiring: Promise<Link> | undefined;
  let closed = false;
  const adopt = (l: Link): Link => {
    l.onBreak = (error) => {
      // The next request re-acquires; subscriptions are gone with the old owner, so their holders hear it.
      if (link === l) link = undefined;
      for (const onError of listeners) onError(error);
      listeners.clear();
    };
    link = l;
    return l;
  };
  adopt(await acquire());
  const current = (): Promise<Link> | Link => {
    if (closed) throw ingestError('DATABASE_UNAVAILABLE', 'the embedded database is closed');
    if (link !== undefined) return link;
    // A failed acquire is tried again by the next request.
    return (acquiring ??= acquire()
      .then(adopt)
      .finally(() => (acquiring = undefined)));
  };
  /** Sends a request; one refused unexecuted by a closing owner is sent again to the next owner. */
  const call = async (request: Request): Promise<unknown> => {
    const deadline = Date.now() + HANDOVER_TIMEOUT_MS;
    for (;;) {
      const l = await current();
      try {
        return await l.request(request);
      } catch (error) {
        if (!isClosingOwner(error) || closed || Date.now() > deadline) throw error;
        if (link === l) link = undefined;
        await sleep(50);
      }
    }
  };
  const query = async (text: string, params?: unknown[]) => ({ rows: (await call({ op: 'query', text, params })) as unknown[] });

  return {
    kind: 'pglite',
    ...(dataDir === undefined ? {} : { spillDir: join(dataDir, 'spill') }),
    get owner() {
      return link?.owner ?? { pid: 0, command: '', schema };
    },
    query,
    insertRows: unnestInsert({ query }),
    exec: async (script) => {
      await call({ op: 'exec', script });
    },
    execRows: async (script) => ({ rows: (await call({ op: 'exec', script })) as unknown[] }),
    listen: async (channel, onNotify, onError) => {
      const l = await current();
      const listenId = (await l.request({ op: 'listen', channel })) as number;
      l.notify.set(listenId, onNotify);
      const lost = (error: Error) => onError?.(error);
      listeners.add(lost);
      return async () => {
        listeners.delete(lost);
        l.notify.delete(listenId);
        if (link === l) await l.request({ op: 'unlisten', listenId }).catch(() => {});
      };
    },
    close: async () => {
      if (closed) return;
      closed = true;
      await (link ?? (await acquiring?.catch(() => undefined)))?.close();
    },
  };
}

/** Quotes an SQL identifier (schema names come from options). */
export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}
