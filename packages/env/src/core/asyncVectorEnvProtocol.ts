// What the main thread, the supervisor thread and the env worker threads of `AsyncVectorEnv` share:
// the layout of the shared control cells, the messages they exchange, and how spaces and errors cross
// thread boundaries (class instances do not survive structured cloning).
import type { MessagePort } from 'node:worker_threads';
import { KflowError, isKflowError } from '@kflow/orderbook';
import type { WorkerEnvSpec } from './asyncVectorEnv';
import type { EnvInfo } from './env';
import { envError } from './errors';
import { type AnySpace, type BoxDtype, type Space, Box, Discrete, MultiDiscrete } from './spaces';

/** Int32 cells per worker in the control buffer: the command (main writes), the reply (worker writes). */
export const CONTROL = {
  /** Bumped by the main thread to send a command. */
  cmdSeq: 0,
  cmdKind: 1,
  /** Set to `cmdSeq` by the worker when the command is done (or to `DEAD` by the supervisor). */
  doneSeq: 2,
  status: 3,
  stride: 4,
} as const;

/** `infos` asks for the infos of the last reset/step, which only travel when they are read. */
export const COMMAND = { reset: 1, step: 2, infos: 3, close: 4 } as const;
export type CommandName = keyof typeof COMMAND;

export const STATUS = { ok: 0, failed: 1 } as const;

/** Written to `doneSeq` by the supervisor when a worker thread exited (never a sequence number). */
export const DEAD = -1;

/** Sequence numbers cycle in [1, MAX_SEQ] so that a run of billions of steps never wraps onto `DEAD`. */
export const MAX_SEQ = 0x3fffffff;

/** A contiguous block of sub-envs run by one worker. */
export interface Slice {
  readonly start: number;
  readonly count: number;
}

/** `numEnvs` sub-envs over `workers` workers, as evenly as possible, the larger blocks first. */
export function slices(numEnvs: number, workers: number): Slice[] {
  const base = Math.floor(numEnvs / workers);
  const extra = numEnvs % workers;
  const out: Slice[] = [];
  let start = 0;
  for (let w = 0; w < workers; w++) {
    const count = base + (w < extra ? 1 : 0);
    out.push({ start, count });
    start += count;
  }
  return out;
}

/** A space as plain data. */
export type SpaceDescription =
  | { readonly kind: 'discrete'; readonly n: number; readonly start: number }
  | { readonly kind: 'multiDiscrete'; readonly nvec: Int32Array }
  | { readonly kind: 'box'; readonly low: Float32Array | Float64Array; readonly high: Float32Array | Float64Array; readonly shape: readonly number[]; readonly dtype: BoxDtype };

export function describeSpace(space: Space): SpaceDescription {
  if (space instanceof Discrete) return { kind: 'discrete', n: space.n, start: space.start };
  if (space instanceof MultiDiscrete) return { kind: 'multiDiscrete', nvec: space.nvec };
  if (space instanceof Box) return { kind: 'box', low: space.low, high: space.high, shape: space.shape, dtype: space.dtype };
  throw envError('INVALID_ARGUMENT', `AsyncVectorEnv supports Discrete, MultiDiscrete and Box spaces, got ${String(space)}`);
}

export function spaceFromDescription(d: SpaceDescription): AnySpace {
  switch (d.kind) {
    case 'discrete':
      return new Discrete(d.n, d.start);
    case 'multiDiscrete':
      return new MultiDiscrete(d.nvec);
    case 'box':
      return new Box(d.low, d.high, d.shape, d.dtype);
  }
}

/** An error as plain data; a `KflowError` keeps its code and details. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
  readonly code?: string;
  readonly details?: Record<string, unknown>;
}

export function serializeError(error: unknown): SerializedError {
  if (!(error instanceof Error)) return { name: 'Error', message: String(error) };
  const base = { name: error.name, message: error.message, ...(error.stack === undefined ? {} : { stack: error.stack }) };
  if (!isKflowError(error)) return base;
  let details: Record<string, unknown> | undefined;
  try {
    // Details that do not survive JSON (functions, bigints, cycles) are dropped rather than failing the report.
    details = JSON.parse(JSON.stringify(error.details)) as Record<string, unknown>;
  } catch {
    details = undefined;
  }
  return { ...base, code: error.code, ...(details === undefined ? {} : { details }) };
}

export function deserializeError(s: SerializedError): Error {
  const error = s.code === undefined ? new Error(s.message) : new KflowError(s.code, s.message, s.details === undefined ? {} : { details: s.details });
  if (s.code === undefined) error.name = s.name;
  if (s.stack !== undefined) error.stack = s.stack;
  return error;
}

/** The shared arrays of a vector env; each worker writes the rows of its own sub-envs. */
export interface SharedBuffers {
  readonly observations: SharedArrayBuffer;
  readonly rewards: SharedArrayBuffer;
  readonly terminated: SharedArrayBuffer;
  readonly truncated: SharedArrayBuffer;
  readonly autoreset: SharedArrayBuffer;
  /** Absent for `Box` action spaces (no masks). */
  readonly actionMasks: SharedArrayBuffer | undefined;
  /** `numEnvs × actionDim` actions as float64 (exact for every int32 and float32 value). */
  readonly actions: SharedArrayBuffer;
}

/** Main → worker, on the worker's channel (read with `receiveMessageOnPort`). */
export type MainMessage =
  | { readonly kind: 'buffers'; readonly buffers: SharedBuffers }
  | { readonly kind: 'reset'; readonly seed?: number; readonly options?: Readonly<Record<string, unknown>> };

/** Worker → main, on the worker's channel: the answer to `infos`, or the error of any failed command. */
export type WorkerReply = { readonly kind: 'infos'; readonly infos: readonly EnvInfo[] } | { readonly kind: 'error'; readonly error: SerializedError };

/** Env worker → supervisor at start. */
export type EnvWorkerStartup =
  | { readonly kind: 'ready'; readonly observationSpace: SpaceDescription; readonly actionSpace: SpaceDescription }
  | { readonly kind: 'failed'; readonly error: SerializedError };

/** A worker that stopped: at start (supervisor → main, `parentPort`) or later (on the death channel). */
export interface WorkerExit {
  readonly worker: number;
  /** The thread's exit code; undefined when it reported a failure and may still be running. */
  readonly exitCode?: number;
  readonly error?: SerializedError;
}

/** Supervisor → main at start. */
export type SupervisorStartup =
  | { readonly kind: 'ready'; readonly workers: readonly Extract<EnvWorkerStartup, { kind: 'ready' }>[] }
  | ({ readonly kind: 'failed' } & WorkerExit);

/** `workerData` of the supervisor thread. */
export interface SupervisorData {
  readonly role: 'supervisor';
  /** The URL of this entry module, to start the env workers with. */
  readonly entry: string;
  readonly execArgv: string[] | undefined;
  readonly spec: WorkerEnvSpec;
  readonly slices: readonly Slice[];
  readonly control: SharedArrayBuffer;
  /** One channel end per env worker (handed on to it). */
  readonly ports: readonly MessagePort[];
  readonly deathPort: MessagePort;
}

/** `workerData` of an env worker thread. */
export interface EnvWorkerData {
  readonly role: 'env';
  readonly worker: number;
  readonly slice: Slice;
  readonly spec: WorkerEnvSpec;
  readonly control: SharedArrayBuffer;
  readonly port: MessagePort;
}
