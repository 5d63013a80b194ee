import { availableParallelism } from 'node:os';
import { type MessagePort, MessageChannel, Worker, receiveMessageOnPort } from 'node:worker_threads';
import { KflowError } from '@kflow/orderbook';
import {
  COMMAND,
  CONTROL,
  type CommandName,
  DEAD,
  MAX_SEQ,
  type MainMessage,
  type SharedBuffers,
  type Slice,
  STATUS,
  type SupervisorData,
  type SupervisorStartup,
  type WorkerExit,
  type WorkerReply,
  deserializeError,
  slices,
  spaceFromDescription,
} from './asyncVectorEnvProtocol';
import type { EnvFactory, EnvInfo } from './env';
import { type EnvErrorCode, envError } from './errors';
import { type AnySpace, type Box, type Discrete, type Space, type SpaceValue, describeValue, flatDim } from './spaces';
import type { VectorEnv, VectorResetOptions, VectorResetResult, VectorStepResult } from './syncVectorEnv';

// From sources (tests, the workspace CLI) a worker has no TypeScript loader: its boot file registers one.
// The built package ships the worker as its own entry next to the bundle.
const WORKER: { readonly url: URL; readonly execArgv: string[] | undefined } = import.meta.url.endsWith('.ts')
  ? { url: new URL('./asyncVectorEnvWorker.boot.mjs', import.meta.url), execArgv: ['--conditions=@kflow/source'] }
  : { url: new URL('./asyncVectorEnvWorker.js', import.meta.url), execArgv: undefined };

/** How long `close` waits for the workers to close their sub-envs before it stops the threads anyway. */
const CLOSE_TIMEOUT_MS = 5000;

/**
 * What a worker module exports to build its sub-envs: called once per worker with the spec's options
 * (so expensive shared state, such as a market pool, is built once per worker), it returns the factory
 * of that worker's sub-envs, which receives each sub-env's index in the whole vector env.
 *
 * @example
 * // envs.ts
 * export const setupMyEnvs: WorkerEnvSetup<{ maxEpisodeSteps: number }> = (options) => () => createCartPole(options);
 */
export type WorkerEnvSetup<Options = unknown, O extends Space = Box, A extends Space = Discrete, I extends EnvInfo = EnvInfo> = (
  options: Options,
) => EnvFactory<O, A, I>;

/**
 * How a worker builds its sub-envs. Functions cannot be sent to a thread, so the spec names a module and
 * one of its exports (a {@link WorkerEnvSetup}), plus options that are copied to each worker once, at start.
 * `cartPoleWorkerEnv` and `kalshiWorkerEnv` build the specs of this package's envs.
 *
 * @example
 * const spec: WorkerEnvSpec<{ maxEpisodeSteps: number }> = {
 *   module: new URL('./envs.js', import.meta.url).href,
 *   exportName: 'setupMyEnvs',
 *   options: { maxEpisodeSteps: 200 },
 * };
 */
export interface WorkerEnvSpec<Options = unknown> {
  /**
   * The module a worker imports: an absolute `file:` URL, e.g. `new URL('./envs.js', import.meta.url).href`
   * (from TypeScript sources a `.ts` URL works too: the workers register the same loader), or a package
   * name, resolved from `@kflow/env`'s own location (`'@kflow/env'` for this package's envs).
   */
  readonly module: string;
  /** The named export of `module` that builds the envs: a {@link WorkerEnvSetup}. */
  readonly exportName: string;
  /**
   * Passed to the setup once per worker, at start. It is copied into the worker with the structured clone
   * algorithm: JSON values, typed arrays, `Map`s and the like, no functions or class instances.
   */
  readonly options: Options;
}

/** Options of {@link createAsyncVectorEnv}. */
export interface AsyncVectorEnvOptions {
  /** How each worker builds its sub-envs. */
  readonly env: WorkerEnvSpec;
  readonly numEnvs: number;
  /**
   * Worker threads; sub-envs are split into contiguous blocks, one per worker, the larger blocks first
   * (8 envs on 3 workers: 3, 3, 2). Default: one per core, at most `numEnvs`.
   */
  readonly workers?: number;
}

/**
 * A {@link VectorEnv} whose sub-envs run in worker threads: `reset` and `step` send the command to every
 * worker at once and return when all have answered, so the sub-envs of different workers step in parallel.
 * Observations, rewards, terminations, truncations, autoreset flags and action masks are written by the
 * workers straight into shared memory (`SharedArrayBuffer`-backed arrays owned by the vector env). Infos
 * are copies of the sub-envs' infos (structured clones, so they must hold cloneable values), fetched from
 * the workers on the first read of `infos` after a reset/step (one round trip): a loop that never reads
 * them does not pay for copying them. Read them before `close()`.
 *
 * Semantics are `SyncVectorEnv`'s (each worker runs one over its block): next-step autoreset, sub-env `i`
 * reset with `seed + i`, the same rows and infos; with the same sub-envs and actions the results are equal,
 * value for value. Errors:
 * - misuse (a step before `reset`, a wrong number of actions, an action outside the space) throws in the
 *   calling thread as `SyncVectorEnv` does (`ENV_NEEDS_RESET`, `INVALID_ACTION`), and the env stays usable;
 * - anything that fails inside a worker (a sub-env throws, a worker thread exits or runs out of memory)
 *   throws `WORKER_FAILED` from the pending call (with the sub-env's error as `cause`), after closing the
 *   vector env: its sub-envs are no longer in step with each other.
 */
export interface AsyncVectorEnv<O extends Box = Box, A extends Space = Discrete, I extends EnvInfo = EnvInfo> extends VectorEnv<O, A, I> {
  /** Worker threads running the sub-envs. */
  readonly workers: number;
  /** Closes every sub-env and stops the worker threads; later calls do nothing. */
  close(): void;
}

/**
 * Starts `workers` threads, each building its block of sub-envs from `env` (a module and export, see
 * {@link WorkerEnvSpec}), and resolves once all are ready. Building the envs fails with `WORKER_FAILED`
 * (the worker's error as `cause`); sub-envs whose spaces differ fail with `INVALID_ARGUMENT`.
 *
 * The threads do not keep the process alive; call `close()` when done to release them and the sub-envs.
 *
 * @example
 * const envs = await createAsyncVectorEnv({ env: kalshiWorkerEnv({ sessions, ...KALSHI_PPO.env }), numEnvs: 4, workers: 2 });
 * const result = trainPpo({ envs, totalTimesteps: 100_000, seed: 0, ...KALSHI_PPO.ppo });
 * envs.close();
 */
export async function createAsyncVectorEnv<O extends Box = Box, A extends Space = Discrete, I extends EnvInfo = EnvInfo>(
  options: AsyncVectorEnvOptions,
): Promise<AsyncVectorEnv<O, A, I>> {
  const { numEnvs, env: spec } = options;
  if (!Number.isInteger(numEnvs) || numEnvs < 1) throw envError('INVALID_ARGUMENT', `numEnvs must be a positive integer, got ${numEnvs}`);
  const workers = options.workers ?? Math.min(numEnvs, availableParallelism());
  if (!Number.isInteger(workers) || workers < 1 || workers > numEnvs) {
    throw envError('INVALID_ARGUMENT', `workers must be an integer from 1 to numEnvs (${numEnvs}), got ${workers}`);
  }
  const blocks = slices(numEnvs, workers);
  const control = new SharedArrayBuffer(workers * CONTROL.stride * Int32Array.BYTES_PER_ELEMENT);
  const channels = blocks.map(() => new MessageChannel());
  const death = new MessageChannel();
  const data: SupervisorData = {
    role: 'supervisor',
    entry: WORKER.url.href,
    execArgv: WORKER.execArgv,
    spec,
    slices: blocks,
    control,
    ports: channels.map((c) => c.port2),
    deathPort: death.port2,
  };
  let supervisor: Worker;
  try {
    supervisor = new Worker(WORKER.url, {
      workerData: data,
      transferList: [...data.ports, death.port2],
      ...(WORKER.execArgv === undefined ? {} : { execArgv: WORKER.execArgv }),
    });
  } catch (error) {
    throw envError('INVALID_ARGUMENT', `the env spec cannot be sent to a worker (options must be structured-cloneable: no functions or class instances): ${String(error)}`);
  }
  let settle: (startup: SupervisorStartup) => void = () => {};
  const onError = (error: Error) => settle({ kind: 'failed', worker: -1, error: { name: error.name, message: error.message } });
  const onExit = (exitCode: number) => settle({ kind: 'failed', worker: -1, exitCode });
  const startup = await new Promise<SupervisorStartup>((resolve) => {
    settle = resolve;
    supervisor.on('message', resolve).on('error', onError).on('exit', onExit);
  });
  supervisor.off('message', settle).off('error', onError).off('exit', onExit);
  if (startup.kind === 'failed') {
    await supervisor.terminate();
    const cause = startup.error === undefined ? undefined : deserializeError(startup.error);
    const who = startup.worker < 0 ? 'the supervisor thread' : `worker ${startup.worker} (${describeBlock(blocks[startup.worker]!)})`;
    const why = cause?.message ?? `the thread exited with code ${startup.exitCode}`;
    throw new KflowError<EnvErrorCode>('WORKER_FAILED', `AsyncVectorEnv: ${who} could not build its envs from ${spec.module} (export "${spec.exportName}"): ${why}`, {
      cause,
      details: { worker: startup.worker, module: spec.module, exportName: spec.exportName },
    });
  }

  const spaces = startup.workers.map((r) => ({ observation: spaceFromDescription(r.observationSpace), action: spaceFromDescription(r.actionSpace) }));
  const first = spaces[0]!;
  const mismatch = spaces.findIndex((s) => !s.observation.equals(first.observation) || !s.action.equals(first.action));
  if (mismatch > 0) {
    await supervisor.terminate();
    const s = spaces[mismatch]!;
    throw envError(
      'INVALID_ARGUMENT',
      `sub-env ${blocks[mismatch]!.start} has spaces ${s.observation} / ${s.action}, sub-env 0 has ${first.observation} / ${first.action}`,
    );
  }
  supervisor.unref();
  return new WorkerVectorEnv<O, A, I>({
    supervisor,
    control,
    ports: channels.map((c) => c.port1),
    deathPort: death.port1,
    blocks,
    observationSpace: first.observation as O,
    actionSpace: first.action as Space as A,
  });
}

function describeBlock(block: Slice): string {
  return block.count === 1 ? `sub-env ${block.start}` : `sub-envs ${block.start}–${block.start + block.count - 1}`;
}

interface Threads<O, A> {
  readonly supervisor: Worker;
  readonly control: SharedArrayBuffer;
  readonly ports: readonly MessagePort[];
  readonly deathPort: MessagePort;
  readonly blocks: readonly Slice[];
  readonly observationSpace: O;
  readonly actionSpace: A;
}

type Outcome = 'ok' | 'failed' | 'dead' | 'timeout';

/** The main-thread side: writes actions and commands into shared memory and waits for the workers. */
class WorkerVectorEnv<O extends Box, A extends Space, I extends EnvInfo> implements AsyncVectorEnv<O, A, I> {
  readonly numEnvs: number;
  readonly singleObservationSpace: O;
  readonly singleActionSpace: A;
  readonly observationSize: number;
  readonly autoresetMode = 'next-step' as const;
  readonly workers: number;

  private readonly result: VectorStepResult<I>;
  /** The infos of the last reset/step once read (`infosCurrent`), row `i` for sub-env `i`. */
  private readonly infos: I[] = [];
  private infosCurrent = true;
  private readonly actions: Float64Array;
  /** Elements per action in `actions`: 1 for `Discrete`, else the length of the action's array. */
  private readonly actionDim: number;
  private readonly control: Int32Array;
  private readonly supervisor: Worker;
  private readonly ports: readonly MessagePort[];
  private readonly deathPort: MessagePort;
  private readonly blocks: readonly Slice[];
  private readonly dead: boolean[];
  private readonly exits = new Map<number, WorkerExit>();
  private seq = 0;
  private started = false;
  private closed = false;
  /** The failure that closed the env, thrown again by later calls. */
  private failure: KflowError<EnvErrorCode> | undefined;

  constructor(threads: Threads<O, A>) {
    this.supervisor = threads.supervisor;
    this.control = new Int32Array(threads.control);
    this.ports = threads.ports;
    this.deathPort = threads.deathPort;
    this.blocks = threads.blocks;
    this.workers = threads.blocks.length;
    this.dead = threads.blocks.map(() => false);
    this.singleObservationSpace = threads.observationSpace;
    this.singleActionSpace = threads.actionSpace;
    this.observationSize = threads.observationSpace.size;
    const n = threads.blocks.reduce((sum, b) => sum + b.count, 0);
    this.numEnvs = n;
    const action = threads.actionSpace as Space as AnySpace;
    const maskSize = action.kind === 'box' ? 0 : flatDim(action);
    this.actionDim = action.kind === 'discrete' ? 1 : action.kind === 'box' ? action.size : action.nvec.length;
    const buffers: SharedBuffers = {
      observations: new SharedArrayBuffer(n * this.observationSize * Float32Array.BYTES_PER_ELEMENT),
      rewards: new SharedArrayBuffer(n * Float64Array.BYTES_PER_ELEMENT),
      terminated: new SharedArrayBuffer(n),
      truncated: new SharedArrayBuffer(n),
      autoreset: new SharedArrayBuffer(n),
      actionMasks: maskSize > 0 ? new SharedArrayBuffer(n * maskSize) : undefined,
      actions: new SharedArrayBuffer(n * this.actionDim * Float64Array.BYTES_PER_ELEMENT),
    };
    const readInfos = () => this.readInfos();
    this.result = {
      observations: new Float32Array(buffers.observations),
      rewards: new Float64Array(buffers.rewards),
      terminated: new Uint8Array(buffers.terminated),
      truncated: new Uint8Array(buffers.truncated),
      autoreset: new Uint8Array(buffers.autoreset),
      actionMasks: buffers.actionMasks === undefined ? undefined : new Uint8Array(buffers.actionMasks).fill(1),
      get infos() {
        return readInfos();
      },
    };
    this.actions = new Float64Array(buffers.actions);
    // Read by each worker with its first command.
    for (const port of this.ports) port.postMessage({ kind: 'buffers', buffers } satisfies MainMessage);
  }

  /** Resets every sub-env (seed `i` of sub-env `i` is `seed + i`) and returns the stacked observations. */
  reset(options: VectorResetOptions = {}): VectorResetResult<I> {
    this.assertUsable();
    const message: MainMessage = {
      kind: 'reset',
      ...(options.seed === undefined ? {} : { seed: options.seed }),
      ...(options.options === undefined ? {} : { options: options.options }),
    };
    try {
      for (const port of this.ports) port.postMessage(message);
    } catch (error) {
      // Only the first post can fail (every worker gets the same message), so no worker holds a stale one.
      throw envError('INVALID_ARGUMENT', `reset options must be structured-cloneable to reach the workers: ${String(error)}`);
    }
    this.run('reset');
    this.started = true;
    this.infosCurrent = false;
    return this.result;
  }

  step(actions: ArrayLike<SpaceValue<A>>): VectorStepResult<I> {
    this.assertUsable();
    if (!this.started) throw envError('ENV_NEEDS_RESET', 'AsyncVectorEnv.step called before reset');
    if (actions.length !== this.numEnvs) {
      throw envError('INVALID_ACTION', `expected ${this.numEnvs} actions, got ${describeValue(actions)}`);
    }
    const space = this.singleActionSpace;
    const dim = this.actionDim;
    const out = this.actions;
    for (let i = 0; i < this.numEnvs; i++) {
      const action: unknown = actions[i];
      // Checked here, where the caller can recover, rather than in a worker, where it would close the env.
      if (!space.contains(action)) throw envError('INVALID_ACTION', `action ${describeValue(action)} of sub-env ${i} is not in ${space}`);
      if (typeof action === 'number') out[i] = action;
      else out.set(action as ArrayLike<number>, i * dim);
    }
    this.run('step');
    this.infosCurrent = false;
    return this.result;
  }

  /** Closes every sub-env and stops the worker threads; later calls do nothing. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    const failure = this.shutdown();
    if (failure !== undefined) throw failure;
  }

  /**
   * The infos of the last reset/step. Copying them between threads costs more than stepping a cheap env,
   * so they travel only when read: one round trip on the first read after each reset/step.
   */
  private readInfos(): I[] {
    if (this.infosCurrent) return this.infos;
    this.assertUsable();
    this.run('infos');
    this.infosCurrent = true;
    return this.infos;
  }

  /** Sends `command` to every worker and waits for all of them (gathering infos for `infos`). */
  private run(command: 'reset' | 'step' | 'infos'): void {
    const seq = this.send(command);
    let failure: KflowError<EnvErrorCode> | undefined;
    for (let w = 0; w < this.workers; w++) {
      const outcome = this.waitFor(w, seq, Number.POSITIVE_INFINITY);
      const reply = outcome === 'failed' || (outcome === 'ok' && command === 'infos') ? this.receive(w) : undefined;
      if (outcome === 'ok' && reply === undefined) continue;
      if (reply?.kind === 'infos') {
        const start = this.blocks[w]!.start;
        reply.infos.forEach((info, j) => (this.infos[start + j] = info as I));
      } else failure ??= this.describeFailure(w, command, outcome, reply);
    }
    if (failure === undefined) return;
    this.failure = failure;
    this.closed = true;
    this.shutdown();
    throw failure;
  }

  /** Publishes `command` to every live worker; returns its sequence number. */
  private send(command: CommandName): number {
    this.seq = this.seq === MAX_SEQ ? 1 : this.seq + 1;
    const c = this.control;
    for (let w = 0; w < this.workers; w++) {
      if (this.dead[w]) continue;
      const base = w * CONTROL.stride;
      Atomics.store(c, base + CONTROL.cmdKind, COMMAND[command]);
      Atomics.store(c, base + CONTROL.cmdSeq, this.seq);
      Atomics.notify(c, base + CONTROL.cmdSeq);
    }
    return this.seq;
  }

  /** Blocks until worker `w` has answered command `seq`, died, or `timeoutMs` passed. */
  private waitFor(w: number, seq: number, timeoutMs: number): Outcome {
    const c = this.control;
    const base = w * CONTROL.stride;
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const done = Atomics.load(c, base + CONTROL.doneSeq);
      if (done === seq) return Atomics.load(c, base + CONTROL.status) === STATUS.ok ? 'ok' : 'failed';
      if (done === DEAD) {
        this.dead[w] = true;
        return 'dead';
      }
      const left = deadline - performance.now();
      if (left <= 0) return 'timeout';
      Atomics.wait(c, base + CONTROL.doneSeq, done, left);
    }
  }

  private receive(w: number): WorkerReply {
    const received = receiveMessageOnPort(this.ports[w]!);
    // A worker posts its reply before it publishes `doneSeq`, so a missing reply means a broken worker.
    return received === undefined ? { kind: 'error', error: { name: 'Error', message: 'the worker answered without a reply' } } : (received.message as WorkerReply);
  }

  private describeFailure(w: number, command: CommandName, outcome: Outcome, reply: WorkerReply | undefined): KflowError<EnvErrorCode> {
    const block = this.blocks[w]!;
    const where = `AsyncVectorEnv worker ${w} (${describeBlock(block)})`;
    const details = { worker: w, start: block.start, count: block.count, command };
    const advice = 'The vector env is closed: fix the cause, then create a new one.';
    if (outcome === 'dead') {
      let received: { message: unknown } | undefined;
      while ((received = receiveMessageOnPort(this.deathPort)) !== undefined) {
        const exit = received.message as WorkerExit;
        this.exits.set(exit.worker, exit);
      }
      const exit = this.exits.get(w);
      const cause = exit?.error === undefined ? undefined : deserializeError(exit.error);
      const why = cause === undefined ? '' : `: ${cause.message}`;
      return new KflowError('WORKER_FAILED', `${where} exited with code ${exit?.exitCode ?? 'unknown'} during ${command}${why}. ${advice}`, {
        cause,
        details: { ...details, exitCode: exit?.exitCode },
      });
    }
    if (outcome === 'timeout') return new KflowError('WORKER_FAILED', `${where} did not answer ${command} within ${CLOSE_TIMEOUT_MS} ms`, { details });
    const cause = reply?.kind === 'error' ? deserializeError(reply.error) : undefined;
    return new KflowError('WORKER_FAILED', `${where} failed during ${command}: ${cause?.message ?? 'no error reported'}. ${advice}`, { cause, details });
  }

  /** Asks the live workers to close their sub-envs, waits (bounded), then stops every thread. */
  private shutdown(): KflowError<EnvErrorCode> | undefined {
    const seq = this.send('close');
    const deadline = performance.now() + CLOSE_TIMEOUT_MS;
    let failure: KflowError<EnvErrorCode> | undefined;
    for (let w = 0; w < this.workers; w++) {
      if (this.dead[w]) continue;
      const outcome = this.waitFor(w, seq, Math.max(0, deadline - performance.now()));
      if (outcome !== 'ok') failure ??= this.describeFailure(w, 'close', outcome, outcome === 'failed' ? this.receive(w) : undefined);
    }
    void this.supervisor.terminate();
    return failure;
  }

  private assertUsable(): void {
    if (this.failure !== undefined) {
      throw new KflowError<EnvErrorCode>('WORKER_FAILED', `AsyncVectorEnv was closed by an earlier failure: ${this.failure.message}`, {
        cause: this.failure,
        details: this.failure.details,
      });
    }
    if (this.closed) throw envError('INVALID_ARGUMENT', 'AsyncVectorEnv is closed');
  }
}
