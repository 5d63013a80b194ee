// The threads behind `AsyncVectorEnv` (asyncVectorEnv.ts). One module, two roles:
// - the supervisor starts the env workers and, as their parent, is the thread that hears them exit: it marks
//   a dead worker in shared memory, so a main thread blocked waiting on it wakes up with an error;
// - an env worker builds a `SyncVectorEnv` over its block of sub-envs and serves commands from shared memory
//   in a blocking loop (no event loop turn per step).
import { Worker, parentPort, receiveMessageOnPort, workerData } from 'node:worker_threads';
import type { WorkerEnvSetup } from './asyncVectorEnv';
import {
  COMMAND,
  CONTROL,
  DEAD,
  type EnvWorkerData,
  type EnvWorkerStartup,
  type MainMessage,
  type SerializedError,
  type SharedBuffers,
  STATUS,
  type SupervisorData,
  type SupervisorStartup,
  type WorkerExit,
  type WorkerReply,
  describeSpace,
  serializeError,
} from './asyncVectorEnvProtocol';
import type { EnvInfo } from './env';
import { envError } from './errors';
import { type AnySpace, type Box, type Space, flatDim } from './spaces';
import { SyncVectorEnv } from './syncVectorEnv';

const parent = parentPort;
if (parent === null) throw envError('INVALID_ARGUMENT', 'asyncVectorEnvWorker runs as a worker thread of AsyncVectorEnv, not on its own');

function supervise(data: SupervisorData): void {
  const control = new Int32Array(data.control);
  const ready: Extract<EnvWorkerStartup, { kind: 'ready' }>[] = [];
  let started = false;
  let failed = false;
  const fail = (exit: WorkerExit) => {
    if (failed) return;
    failed = true;
    parent!.postMessage({ kind: 'failed', ...exit } satisfies SupervisorStartup);
  };
  data.slices.forEach((slice, w) => {
    const port = data.ports[w]!;
    const envWorkerData: EnvWorkerData = { role: 'env', worker: w, slice, spec: data.spec, control: data.control, port };
    const worker = new Worker(new URL(data.entry), {
      workerData: envWorkerData,
      transferList: [port],
      ...(data.execArgv === undefined ? {} : { execArgv: data.execArgv }),
    });
    let error: SerializedError | undefined;
    worker.on('message', (message: EnvWorkerStartup) => {
      if (message.kind === 'failed') {
        fail({ worker: w, error: message.error });
        return;
      }
      ready[w] = message;
      if (ready.filter(Boolean).length === data.slices.length) {
        started = true;
        parent!.postMessage({ kind: 'ready', workers: ready } satisfies SupervisorStartup);
      }
    });
    worker.on('error', (e) => {
      error = serializeError(e);
    });
    worker.on('exit', (exitCode) => {
      const exit: WorkerExit = { worker: w, exitCode, ...(error === undefined ? {} : { error }) };
      if (!started) {
        fail(exit);
        return;
      }
      const base = w * CONTROL.stride;
      if (Atomics.load(control, base + CONTROL.cmdKind) === COMMAND.close) return; // asked to stop
      // Report first, then wake the main thread: it reads the report as soon as it sees DEAD.
      data.deathPort.postMessage(exit);
      Atomics.store(control, base + CONTROL.doneSeq, DEAD);
      Atomics.notify(control, base + CONTROL.doneSeq);
    });
  });
}

async function runEnvWorker(data: EnvWorkerData): Promise<void> {
  let envs: SyncVectorEnv<Box, Space, EnvInfo>;
  try {
    const exports = (await import(data.spec.module)) as Record<string, unknown>;
    const setup = exports[data.spec.exportName];
    if (typeof setup !== 'function') {
      throw envError('INVALID_ARGUMENT', `${data.spec.module} has no function export named "${data.spec.exportName}" (exports: ${Object.keys(exports).join(', ') || 'none'})`);
    }
    const make = (setup as WorkerEnvSetup<unknown, Box, Space>)(data.spec.options);
    const { start, count } = data.slice;
    envs = new SyncVectorEnv(Array.from({ length: count }, (_, j) => () => make(start + j)));
    parent!.postMessage({
      kind: 'ready',
      observationSpace: describeSpace(envs.singleObservationSpace),
      actionSpace: describeSpace(envs.singleActionSpace),
    } satisfies EnvWorkerStartup);
  } catch (error) {
    parent!.postMessage({ kind: 'failed', error: serializeError(error) } satisfies EnvWorkerStartup);
    return;
  }
  serve(envs, data);
}

/** The worker's rows of the shared arrays, and the action values its sub-envs receive. */
class Rows {
  private readonly observations: Float32Array;
  private readonly rewards: Float64Array;
  private readonly terminated: Uint8Array;
  private readonly truncated: Uint8Array;
  private readonly autoreset: Uint8Array;
  private readonly masks: Uint8Array | undefined;
  private readonly maskSize: number;
  private readonly actions: Float64Array;
  /** Elements per action: 1 for `Discrete` (a plain number), else the length of the action's array. */
  private readonly actionDim: number;
  /** What the sub-envs receive: numbers for `Discrete`, one reused array per sub-env otherwise. */
  private readonly values: number[] | (Int32Array | Float32Array | Float64Array)[];

  constructor(
    buffers: SharedBuffers,
    private readonly envs: SyncVectorEnv<Box, Space, EnvInfo>,
    private readonly start: number,
    private readonly count: number,
  ) {
    this.observations = new Float32Array(buffers.observations);
    this.rewards = new Float64Array(buffers.rewards);
    this.terminated = new Uint8Array(buffers.terminated);
    this.truncated = new Uint8Array(buffers.truncated);
    this.autoreset = new Uint8Array(buffers.autoreset);
    this.masks = buffers.actionMasks === undefined ? undefined : new Uint8Array(buffers.actionMasks);
    this.actions = new Float64Array(buffers.actions);
    const space = envs.singleActionSpace as AnySpace;
    this.maskSize = space.kind === 'box' ? 0 : flatDim(space);
    this.actionDim = space.kind === 'discrete' ? 1 : space.kind === 'box' ? space.size : space.nvec.length;
    this.values =
      space.kind === 'discrete'
        ? Array.from({ length: count }, () => 0)
        : Array.from({ length: count }, () => (space.kind === 'box' ? space.allocate() : new Int32Array(space.nvec.length)));
  }

  reset(seed: number | undefined, options: Readonly<Record<string, unknown>> | undefined): readonly EnvInfo[] {
    const r = this.envs.reset({ ...(seed === undefined ? {} : { seed: seed + this.start }), ...(options === undefined ? {} : { options }) });
    this.publishRows(r.observations, r.actionMasks);
    const end = this.start + this.count;
    this.rewards.fill(0, this.start, end);
    this.terminated.fill(0, this.start, end);
    this.truncated.fill(0, this.start, end);
    this.autoreset.fill(0, this.start, end);
    return r.infos;
  }

  step(): readonly EnvInfo[] {
    const r = this.envs.step(this.readActions());
    this.publishRows(r.observations, r.actionMasks);
    this.rewards.set(r.rewards, this.start);
    this.terminated.set(r.terminated, this.start);
    this.truncated.set(r.truncated, this.start);
    this.autoreset.set(r.autoreset, this.start);
    return r.infos;
  }

  private publishRows(observations: Float32Array, masks: Uint8Array | undefined): void {
    this.observations.set(observations, this.start * this.envs.observationSize);
    if (this.masks !== undefined && masks !== undefined) this.masks.set(masks, this.start * this.maskSize);
  }

  private readActions(): ArrayLike<unknown> {
    const dim = this.actionDim;
    const offset = this.start * dim;
    const values = this.values;
    if (isNumbers(values)) for (let j = 0; j < this.count; j++) values[j] = this.actions[offset + j]!;
    else for (let j = 0; j < this.count; j++) values[j]!.set(this.actions.subarray(offset + j * dim, offset + (j + 1) * dim));
    return values;
  }
}

function isNumbers(values: number[] | (Int32Array | Float32Array | Float64Array)[]): values is number[] {
  return typeof values[0] === 'number';
}

/** Serves commands until `close`: wait for `cmdSeq` to change, run the command, publish `doneSeq`. */
function serve(envs: SyncVectorEnv<Box, Space, EnvInfo>, data: EnvWorkerData): void {
  const control = new Int32Array(data.control);
  const base = data.worker * CONTROL.stride;
  const { port } = data;
  const receive = (): MainMessage => {
    const received = receiveMessageOnPort(port);
    if (received === undefined) throw envError('INVALID_ARGUMENT', 'AsyncVectorEnv sent a command without its message');
    return received.message as MainMessage;
  };
  let rows: Rows | undefined;
  /** The infos of the last reset/step (the sub-envs' own objects, valid until their next call). */
  let infos: readonly EnvInfo[] = [];
  let seen = 0;
  for (;;) {
    Atomics.wait(control, base + CONTROL.cmdSeq, seen);
    const seq = Atomics.load(control, base + CONTROL.cmdSeq);
    if (seq === seen) continue; // woken by a notify meant for an earlier value
    seen = seq;
    const kind = Atomics.load(control, base + CONTROL.cmdKind);
    let status: number = STATUS.ok;
    try {
      if (kind === COMMAND.close) envs.close();
      else if (kind === COMMAND.infos) port.postMessage({ kind: 'infos', infos } satisfies WorkerReply);
      else {
        if (rows === undefined) {
          const message = receive();
          if (message.kind !== 'buffers') throw envError('INVALID_ARGUMENT', `AsyncVectorEnv sent "${message.kind}" before the shared buffers`);
          rows = new Rows(message.buffers, envs, data.slice.start, data.slice.count);
        }
        if (kind === COMMAND.reset) {
          const message = receive();
          if (message.kind !== 'reset') throw envError('INVALID_ARGUMENT', `AsyncVectorEnv sent "${message.kind}" with a reset`);
          infos = rows.reset(message.seed, message.options);
        } else infos = rows.step();
      }
    } catch (error) {
      status = STATUS.failed;
      port.postMessage({ kind: 'error', error: serializeError(error) } satisfies WorkerReply);
    }
    Atomics.store(control, base + CONTROL.status, status);
    Atomics.store(control, base + CONTROL.doneSeq, seq);
    Atomics.notify(control, base + CONTROL.doneSeq);
    if (kind === COMMAND.close) return;
  }
}

const data = workerData as SupervisorData | EnvWorkerData;
if (data.role === 'supervisor') supervise(data);
else await runEnvWorker(data);
