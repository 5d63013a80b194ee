import { createHash } from 'node:crypto';
import { realpathSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deserialize, serialize } from 'node:v8';

/**
 * The messages between an embedded database's host (a worker thread of the process that owns the data
 * directory) and its clients: that process's main thread over a `MessagePort`, and other processes over
 * a local socket. Values travel in V8's structured-clone format, so bigints, byte arrays and dates arrive
 * as they left.
 */
export type HostRequest =
  | { readonly id: number; readonly op: 'hello'; readonly schema: string }
  | { readonly id: number; readonly op: 'query'; readonly text: string; readonly params: unknown[] | undefined }
  | { readonly id: number; readonly op: 'exec'; readonly script: string }
  | { readonly id: number; readonly op: 'listen'; readonly channel: string }
  | { readonly id: number; readonly op: 'unlisten'; readonly listenId: number }
  | { readonly id: number; readonly op: 'close' };

/** An error as it crosses a thread or process boundary: the message and PostgreSQL's fields. */
export interface WireError {
  readonly name: string;
  readonly message: string;
  readonly code?: string;
  readonly detail?: string;
  readonly hint?: string;
}

export type HostReply =
  | { readonly id: number; readonly ok: true; readonly value: unknown }
  | { readonly id: number; readonly ok: false; readonly error: WireError }
  | { readonly listenId: number; readonly payload: string }
  /** The owner is closing: it runs nothing more, and every request not answered yet was not run. */
  | { readonly notice: 'closing' };

/** Who owns a data directory: reported by `hello` and written to `kflow.lock` for people to read. */
export interface PgliteOwner {
  readonly pid: number;
  readonly command: string;
  readonly schema: string;
}

/** What the host worker posts once while starting. */
export type HostStartup =
  | { readonly type: 'ready'; readonly owner: PgliteOwner }
  /** Another process holds the directory: connect to it instead. */
  | { readonly type: 'busy' }
  | { readonly type: 'failed'; readonly error: WireError };

/** What the host worker is started with. */
export interface HostInput {
  readonly dataDir: string | undefined;
  readonly address: string | undefined;
  readonly schema: string;
  readonly command: string;
}

export function toWireError(error: unknown): WireError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const e = error as Error & { code?: unknown; detail?: unknown; hint?: unknown };
  return {
    name: e.name,
    message: e.message,
    ...(typeof e.code === 'string' ? { code: e.code } : {}),
    ...(typeof e.detail === 'string' ? { detail: e.detail } : {}),
    ...(typeof e.hint === 'string' ? { hint: e.hint } : {}),
  };
}

/** An `Error` carrying PostgreSQL's fields again (the write queue tells content errors by `code`). */
export function fromWireError(w: WireError): Error {
  return Object.assign(new Error(w.message), { name: w.name }, w.code === undefined ? {} : { code: w.code }, w.detail === undefined ? {} : { detail: w.detail }, w.hint === undefined ? {} : { hint: w.hint });
}

/**
 * The local socket the owner of `dataDir` listens on. Its name is the lock: binding it is atomic, and on
 * Linux (abstract namespace) and Windows (named pipe) the kernel releases it when the owner dies, however
 * it dies, so a crashed owner never leaves a stale lock behind.
 */
export function ownerAddress(dataDir: string): string {
  const hash = createHash('sha256').update(realpathSync(dataDir)).digest('hex').slice(0, 32);
  if (process.platform === 'linux') return `\0kflow-pglite-${hash}`;
  if (process.platform === 'win32') return `\\\\.\\pipe\\kflow-pglite-${hash}`;
  return join(tmpdir(), `kflow-pglite-${hash}.sock`);
}

/** Whether an address is a socket file (left behind by a crash on platforms without abstract sockets). */
export function isSocketFile(address: string): boolean {
  return !address.startsWith('\0') && !address.startsWith('\\\\');
}

/** One length-prefixed, structured-clone frame. */
export function encodeFrame(message: HostRequest | HostReply): Buffer {
  const body = serialize(message);
  const head = Buffer.allocUnsafe(4);
  head.writeUInt32BE(body.length, 0);
  return Buffer.concat([head, body]);
}

/** Splits a byte stream into frames; `push` returns the messages completed by `chunk`. */
export function frameDecoder(): { push(chunk: Buffer): unknown[] } {
  let pending: Buffer = Buffer.alloc(0);
  return {
    push(chunk) {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      const out: unknown[] = [];
      while (pending.length >= 4) {
        const size = pending.readUInt32BE(0);
        if (pending.length < 4 + size) break;
        out.push(deserialize(pending.subarray(4, 4 + size)));
        pending = pending.subarray(4 + size);
      }
      return out;
    },
  };
}
