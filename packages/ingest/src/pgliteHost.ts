/**
 * The embedded database's host: a worker thread of the process that owns a PGlite data directory. PGlite
 * runs here, so a large write never blocks the owner's event loop; the owner's main thread talks to it
 * over the worker's port, and other processes over a local socket (the directory's lock), so they reach
 * the data without ever opening its files.
 */
import { readlinkSync } from 'node:fs';
import { rm, writeFile } from 'node:fs/promises';
import { getPriority, setPriority } from 'node:os';
import { connect, createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { PGlite } from '@electric-sql/pglite';
import {
  encodeFrame,
  frameDecoder,
  isSocketFile,
  toWireError,
  type HostInput,
  type HostReply,
  type HostRequest,
  type HostStartup,
  type PgliteOwner,
} from './pgliteProtocol';

/**
 * How far below its process this thread runs when the database has a directory. When the cores are
 * contended, the owner's main thread (the socket handler) must win over the database: a frame read late
 * delays every frame after it, while a row can wait, and one that waits over a second goes to the spill
 * file beside the directory. An in-memory database has no spill file: everything must reach it before the
 * close timeout, so it keeps the process's priority. 10 nice steps rather than the full 19 leave the
 * database about a tenth of a core beside a busy trainer.
 */
const NICE_STEPS_BELOW_OWNER = 10;

/** Lowers this thread's priority. Only Linux sets a priority per thread; elsewhere the whole process would drop, so nothing changes there. */
function yieldCoresToTheOwner(): void {
  if (process.platform !== 'linux') return;
  try {
    const thread = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(thread, Math.min(19, getPriority(thread) + NICE_STEPS_BELOW_OWNER));
  } catch {
    // Without /proc (some sandboxes) the database runs at the process's priority, which only costs latency.
  }
}

const input = workerData as HostInput;
if (input.dataDir !== undefined) yieldCoresToTheOwner();
const port = parentPort!;
const startup = (message: HostStartup) => port.postMessage(message);

/** Binds the owner socket; false when another live process holds it. */
async function bind(server: Server, address: string): Promise<boolean> {
  const attempt = () =>
    new Promise<NodeJS.ErrnoException | undefined>((resolve) => {
      server.once('error', resolve);
      server.listen(address, () => {
        server.off('error', resolve);
        resolve(undefined);
      });
    });
  const error = await attempt();
  if (error === undefined) return true;
  if (error.code !== 'EADDRINUSE') throw error;
  // A socket file (macOS) outlives a crashed owner: take it over only when nobody answers on it.
  if (isSocketFile(address) && !(await answers(address))) {
    await rm(address, { force: true });
    const again = await attempt();
    if (again === undefined) return true;
    if (again.code !== 'EADDRINUSE') throw again;
  }
  return false;
}

function answers(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = connect(address);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

const owner: PgliteOwner = { pid: process.pid, command: input.command, schema: input.schema };
const server = createServer();
/** Connected processes, with a way to tell each that the owner is closing. */
const sockets = new Map<Socket, (message: HostReply) => void>();
let pg: PGlite | undefined;
let nextListenId = 1;
/** Set when the owner starts closing: later requests are refused unexecuted, so their senders can retry them. */
let closing = false;
let inflight = 0;
let drained: (() => void) | undefined;

let resolveReady: (ok: boolean) => void = () => {};
/** Settles once PGlite is open; requests from other processes that connect meanwhile wait for it. */
const ready = new Promise<boolean>((resolve) => (resolveReady = resolve));

try {
  if (input.address !== undefined && !(await bind(server, input.address))) {
    startup({ type: 'busy' });
  } else {
    server.on('connection', serveSocket);
    if (input.dataDir !== undefined) await writeFile(join(input.dataDir, 'kflow.lock'), `${JSON.stringify(owner)}\n`);
    pg = input.dataDir === undefined ? await PGlite.create() : await PGlite.create(input.dataDir);
    const schema = `"${input.schema.replaceAll('"', '""')}"`;
    // PGlite is a single connection: the search_path set here holds for every client's queries.
    await pg.exec(`CREATE SCHEMA IF NOT EXISTS ${schema}; SET search_path TO ${schema}`);
    port.on('message', (request: HostRequest) => void handle(request, (reply) => port.postMessage(reply), new Map()));
    resolveReady(true);
    startup({ type: 'ready', owner });
  }
} catch (error) {
  resolveReady(false);
  await shutdown().catch(() => {});
  startup({ type: 'failed', error: toWireError(error) });
}

/** Serves another process: the same requests as the port, framed on the socket. */
function serveSocket(socket: Socket): void {
  const listens = new Map<number, () => Promise<void>>();
  const decoder = frameDecoder();
  const reply = (message: HostReply) => {
    if (!socket.destroyed) socket.write(encodeFrame(message));
  };
  sockets.set(socket, reply);
  socket.on('data', (chunk) => {
    for (const request of decoder.push(chunk)) void handle(request as HostRequest, reply, listens);
  });
  socket.on('error', () => socket.destroy());
  socket.on('close', () => {
    sockets.delete(socket);
    for (const off of listens.values()) void off().catch(() => {});
    listens.clear();
  });
}

/** Runs one request. `listens` holds the client's LISTEN subscriptions, undone when it goes away. */
async function handle(request: HostRequest, reply: (message: HostReply) => void, listens: Map<number, () => Promise<void>>): Promise<void> {
  try {
    reply({ id: request.id, ok: true, value: await run(request, reply, listens) });
  } catch (error) {
    reply({ id: request.id, ok: false, error: toWireError(error) });
  }
}

async function run(request: HostRequest, reply: (message: HostReply) => void, listens: Map<number, () => Promise<void>>): Promise<unknown> {
  if (closing && request.op !== 'close') {
    throw Object.assign(new Error('the owner of the embedded database is closing'), { code: 'OWNER_CLOSING' });
  }
  // Hello is answered at once (it proves the owner is alive); the rest waits for the database to open.
  if (request.op === 'hello') {
    if (request.schema !== input.schema) {
      throw Object.assign(new Error(`the owner serves schema "${input.schema}", not "${request.schema}"`), { code: 'SCHEMA_MISMATCH' });
    }
    return owner;
  }
  if (request.op === 'close') return shutdown();
  if (!(await ready) || pg === undefined) throw new Error('the owner failed to open the database');
  inflight++;
  try {
    switch (request.op) {
      case 'query':
        return (await pg.query(request.text, request.params)).rows;
      case 'exec':
        return (await pg.exec(request.script)).flatMap((result) => result.rows);
      case 'listen': {
        const listenId = nextListenId++;
        listens.set(listenId, await pg.listen(request.channel, (payload) => reply({ listenId, payload })));
        return listenId;
      }
      case 'unlisten':
        await listens.get(request.listenId)?.();
        return void listens.delete(request.listenId);
    }
  } finally {
    if (--inflight === 0) drained?.();
  }
}

/**
 * Closes the database, then stops serving other processes and removes the lock note: in that order, so a
 * process that takes over after the socket is released never finds PGlite still open here.
 */
async function shutdown(): Promise<void> {
  closing = true;
  for (const tell of sockets.values()) tell({ notice: 'closing' });
  // Requests already running finish and are answered; everything after them is refused unexecuted.
  if (inflight > 0) await new Promise<void>((resolve) => (drained = resolve));
  try {
    await pg?.close();
  } finally {
    // end() (not destroy()) so the answers already written reach their senders before the socket closes.
    const stopped = new Promise<void>((resolve) => server.close(() => resolve()));
    for (const socket of sockets.keys()) socket.end();
    const grace = setTimeout(() => {
      for (const socket of sockets.keys()) socket.destroy();
    }, 2000);
    await stopped;
    clearTimeout(grace);
    if (input.dataDir !== undefined) await rm(join(input.dataDir, 'kflow.lock'), { force: true });
  }
}
