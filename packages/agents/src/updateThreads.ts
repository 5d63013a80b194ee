import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { ActorCritic } from './actorCritic';
import { agentsError } from './errors';
import { advantageScale } from './minibatch';
import { type Optimizer, type SharedAdam, adamUpdate, sharedAdamOf } from './optimizers';
import { type PpoLossMetrics, type PpoLossOptions, type PpoLossSums, ppoLossMetrics, ppoLossSums } from './ppoLoss';
import type { RolloutBuffer } from './rolloutBuffer';
import {
  type BindMessage,
  COMMAND,
  type Piece,
  SCALAR,
  SCALARS,
  SLOT,
  SLOTS,
  SQUARES,
  SUM_KEYS,
  type ThreadError,
  type UpdateWorkerData,
  parameterPart,
  sumGradientPart,
  tensorViews,
  waitForSlot,
} from './updateThreadsProtocol';

// From sources (tests, the workspace CLI) a worker has no TypeScript loader: its boot file registers one.
// The built package ships the worker as its own entry next to the bundle.
const WORKER: { readonly url: URL; readonly execArgv: string[] | undefined } = import.meta.url.endsWith('.ts')
  ? { url: new URL('./updateWorker.boot.mjs', import.meta.url), execArgv: ['--conditions=@kflow/source'] }
  : { url: new URL('./updateWorker.js', import.meta.url), execArgv: undefined };

interface Helper {
  readonly worker: Worker;
  readonly errors: MessagePort;
}

/** One helper thread's shared memory during a training run. */
interface BoundHelper {
  readonly helper: Helper;
  readonly control: Int32Array;
  readonly rows: Int32Array;
  readonly sums: Float64Array;
}

/**
 * Threads that share PPO's update: each minibatch is split into `threads` equal parts whose loss gradients
 * are computed at once (the calling thread takes the first part); then each thread sums the gradient, clips
 * it and takes the Adam step on its own part of the parameters, so one update takes about `1 / threads` of
 * the time. Pass it to `trainPpo` as `updateThreads`; one instance serves any number of runs, one at a time.
 * The run is deterministic for a given thread count; it differs from the single-threaded run in float
 * rounding only (the gradient and its norm are summed part by part).
 *
 * @example
 * const updateThreads = await createUpdateThreads({ threads: 2 });
 * try {
 *   trainPpo({ envs, totalTimesteps: 300_000, seed: 0, ...KALSHI_PPO.ppo, updateThreads });
 * } finally {
 *   await updateThreads.close();
 * }
 */
export class UpdateThreads {
  /** Threads a minibatch is split over, the calling thread included. */
  readonly threads: number;
  private readonly helpers: Helper[];
  private bound = false;
  private closed = false;

  /** Use {@link createUpdateThreads}. */
  constructor(threads: number, helpers: Helper[]) {
    this.threads = threads;
    this.helpers = helpers;
  }

  /**
   * Rebuilds `policy` in every helper thread and shares `buffer` (created `shared`) and `optimizer` (made by
   * `createAdam({ shared: true })`) with them, for minibatches of up to `batchSize` rows. Until `release()`,
   * the returned loss's `ppoLoss` and `step` replace `ppoLoss`, `clipGradNorm` and `optimizer.step`.
   */
  bind(policy: ActorCritic, buffer: RolloutBuffer, batchSize: number, optimizer: Optimizer): BoundUpdate {
    if (this.closed) throw agentsError('INVALID_OPTIONS', 'these update threads are closed');
    if (this.bound) throw agentsError('INVALID_OPTIONS', 'these update threads already serve a training run');
    if (!(buffer.memory instanceof SharedArrayBuffer)) throw agentsError('INVALID_OPTIONS', 'the rollout buffer must be created with shared: true');
    const adam = sharedAdamOf(optimizer);
    if (adam === undefined) throw agentsError('INVALID_OPTIONS', 'the optimizer must be made by createAdam({ shared: true })');
    const backend = policy.policyNet.backend.name;
    const partSize = Math.ceil(batchSize / this.threads);
    const sizes = policy.parameters().map((p) => p.length);
    const parameterCount = sizes.reduce((n, size) => n + size, 0);
    if (adam.sizes.join(',') !== sizes.join(',')) throw agentsError('SHAPE_MISMATCH', `the optimizer was made for tensors of [${adam.sizes}], the policy has [${sizes}]`);
    const scalars = new SharedArrayBuffer(SCALARS * 8);
    const parameters = new SharedArrayBuffer(parameterCount * 4);
    const mainGradients = new SharedArrayBuffer(parameterCount * 4);
    const helperGradients = this.helpers.map(() => new SharedArrayBuffer(parameterCount * 4));
    const bound = this.helpers.map((helper, i): BoundHelper => {
      const memory = {
        control: new SharedArrayBuffer(SLOTS * 4),
        rows: new SharedArrayBuffer(partSize * 4),
        gradients: helperGradients[i]!,
        sums: new SharedArrayBuffer((SQUARES + 1) * 8),
      };
      const control = new Int32Array(memory.control);
      control[SLOT.done] = -1;
      const message: BindMessage = {
        kind: 'bind',
        policy: {
          observationSize: policy.observationSize,
          nvec: policy.nvec,
          hiddenSizes: policy.hiddenSizes,
          activation: policy.activation,
          shared: policy.shared,
          backend,
        },
        rollout: {
          nSteps: buffer.nSteps,
          nEnvs: buffer.nEnvs,
          observationSize: buffer.observationSize,
          actionDims: buffer.actionDims,
          maskSize: buffer.maskSize,
          memory: buffer.memory as SharedArrayBuffer,
        },
        partSize,
        ...memory,
        scalars,
        parameters,
        index: i + 1,
        threads: this.threads,
        helperGradients,
        mainGradients,
        moments: adam.moments,
      };
      helper.worker.postMessage(message);
      return {
        helper,
        control,
        rows: new Int32Array(memory.rows),
        sums: new Float64Array(memory.sums),
      };
    });
    this.bound = true;
    const shared: SharedRun = {
      scalars: new Float64Array(scalars),
      mainGradients: new Float32Array(mainGradients),
      helperGradients: helperGradients.map((memory) => new Float32Array(memory)),
      parameterViews: tensorViews(parameters, sizes),
      moments: tensorViews(adam.moments, [...sizes, ...sizes]),
    };
    const loss = new BoundUpdate({ policy, buffer, batchSize, adam, sizes, threads: this.threads }, bound, shared, () => {
      this.bound = false;
    });
    try {
      for (const b of bound) loss.waitFor(b, SLOT.done, 0, 'build the policy');
    } catch (error) {
      loss.release();
      throw error;
    }
    return loss;
  }

  /** Stops the helper threads. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.helpers.map(async ({ worker, errors }) => {
        errors.close();
        await worker.terminate();
      }),
    );
  }
}

/** Memory the main thread shares with the helpers during one training run. */
interface SharedRun {
  readonly scalars: Float64Array;
  readonly mainGradients: Float32Array;
  readonly helperGradients: readonly Float32Array[];
  /** `parameters` as the policy's tensors. */
  readonly parameterViews: readonly Float32Array[];
  /** The optimizer's first moments per tensor, then its second moments. */
  readonly moments: readonly Float32Array[];
}

interface BoundRun {
  readonly policy: ActorCritic;
  readonly buffer: RolloutBuffer;
  readonly batchSize: number;
  readonly adam: SharedAdam;
  readonly sizes: readonly number[];
  readonly threads: number;
}

/** `ppoLoss`, `clipGradNorm` and the optimizer's step over the threads of an {@link UpdateThreads}, for one training run. */
export class BoundUpdate {
  private go = 0;
  private released = false;
  /** Whether the helpers hold the gradient of a minibatch not stepped yet. */
  private pending = false;
  /** This thread's part of the parameters, and the helpers' parts. */
  private readonly ownPart: readonly Piece[];
  private readonly otherParts: readonly Piece[];

  constructor(
    private readonly run: BoundRun,
    private readonly helpers: readonly BoundHelper[],
    private readonly shared: SharedRun,
    private readonly onRelease: () => void,
  ) {
    this.ownPart = parameterPart(run.sizes, run.threads, 0);
    this.otherParts = Array.from({ length: run.threads - 1 }, (_, i) => parameterPart(run.sizes, run.threads, i + 1)).flat();
  }

  /**
   * `ppoLoss(options)`: the same metrics. The minibatch's gradient stays with the threads, part by part,
   * for {@link step}; `policy.gradients()` holds this thread's part only.
   */
  readonly ppoLoss = (options: PpoLossOptions): PpoLossMetrics => {
    const { policy, buffer, rows } = options;
    const total = rows.length;
    if (policy !== this.run.policy || buffer !== this.run.buffer) throw agentsError('INVALID_OPTIONS', 'the update threads were bound to another policy and rollout');
    if (total > this.run.batchSize) throw agentsError('SHAPE_MISMATCH', `a minibatch of ${total} rows; the update threads were bound for ${this.run.batchSize}`);
    const scale = advantageScale(buffer, rows, options.normalizeAdvantage ?? true);
    // The helpers read every parameter each minibatch, so the policy may change between calls by any means.
    policy.parameters().forEach((tensor, t) => this.shared.parameterViews[t]!.set(tensor));
    const s = this.shared.scalars;
    s[SCALAR.clipRange] = options.clipRange;
    s[SCALAR.clipRangeVf] = options.clipRangeVf ?? Number.NaN;
    s[SCALAR.entCoef] = options.entCoef ?? 0;
    s[SCALAR.vfCoef] = options.vfCoef ?? 0.5;
    s[SCALAR.advantageMean] = scale.mean;
    s[SCALAR.advantageStd] = scale.std;
    s[SCALAR.total] = total;
    // Equal parts in order; this thread takes the first.
    const parts = this.helpers.length + 1;
    const bounds = Array.from({ length: parts + 1 }, (_, i) => Math.round((i * total) / parts));
    const go = this.command(COMMAND.loss, (h, i) => {
      const part = rows.subarray(bounds[i + 1]!, bounds[i + 2]!);
      h.rows.set(part);
      h.control[SLOT.rows] = part.length;
    });
    const sums: PpoLossSums = ppoLossSums(options, rows.subarray(0, bounds[1]!), scale, total);
    for (const h of this.helpers) {
      this.waitFor(h, SLOT.done, go, 'compute its part of the gradient');
      SUM_KEYS.forEach((key, i) => {
        sums[key] += h.sums[i]!;
      });
    }
    this.pending = true;
    return ppoLossMetrics(sums, total, options);
  };

  /**
   * `clipGradNorm(gradients, maxGradNorm)` then `optimizer.step(parameters, gradients)` for the gradient of
   * the last `ppoLoss`, each thread on its part of the parameters; returns the norm before clipping.
   */
  step(maxGradNorm: number): number {
    if (!this.pending) throw agentsError('INVALID_OPTIONS', 'step() needs the gradient of a ppoLoss() first');
    this.pending = false;
    const { policy, adam, sizes } = this.run;
    const { scalars, mainGradients, helperGradients, moments, parameterViews } = this.shared;
    const constants = adam.begin();
    scalars[SCALAR.beta1] = constants.beta1;
    scalars[SCALAR.beta2] = constants.beta2;
    scalars[SCALAR.eps] = constants.eps;
    scalars[SCALAR.stepSize] = constants.stepSize;
    scalars[SCALAR.bc2Sqrt] = constants.bc2Sqrt;
    const gradients = policy.gradients();
    const params = policy.parameters();
    for (const piece of this.otherParts) mainGradients.set(gradients[piece.tensor]!.subarray(piece.from, piece.to), piece.offset + piece.from);
    const go = this.command(COMMAND.step);
    let squares = sumGradientPart(this.ownPart, (piece) => ({ array: gradients[piece.tensor]!, at: 0 }), helperGradients, gradients);
    for (const h of this.helpers) {
      this.waitFor(h, SLOT.summed, go, 'sum its part of the gradient');
      squares += h.sums[SQUARES]!;
    }
    const norm = Math.sqrt(squares);
    // clipGradNorm's coefficient; 1 leaves the gradient as it is.
    const coef = Math.min(1, maxGradNorm / (norm + 1e-6));
    scalars[SCALAR.coef] = coef;
    for (const h of this.helpers) {
      Atomics.store(h.control, SLOT.clipped, go);
      Atomics.notify(h.control, SLOT.clipped);
    }
    const n = sizes.length;
    for (const { tensor, from, to } of this.ownPart) adamUpdate(params[tensor]!, gradients[tensor]!, moments[tensor]!, moments[n + tensor]!, from, to, coef, constants);
    for (const h of this.helpers) this.waitFor(h, SLOT.done, go, 'take its part of the optimizer step');
    for (const { tensor, from, to } of this.otherParts) params[tensor]!.set(parameterViews[tensor]!.subarray(from, to), from);
    return norm;
  }

  /** Hands `command` to every helper (after `prepare`), returning its `go`. */
  private command(command: number, prepare?: (helper: BoundHelper, index: number) => void): number {
    const go = ++this.go;
    this.helpers.forEach((h, i) => {
      prepare?.(h, i);
      h.control[SLOT.command] = command;
      Atomics.store(h.control, SLOT.go, go);
      Atomics.notify(h.control, SLOT.go);
    });
    return go;
  }

  /** Returns the threads to their event loop, ready for the next run. */
  release(): void {
    if (this.released) return;
    this.released = true;
    // A failed thread reads no more commands; handing it this one is harmless.
    const go = this.command(COMMAND.release);
    for (const { control } of this.helpers) waitForSlot(control, SLOT.done, go);
    this.onRelease();
  }

  /** @internal Blocks until `helper` set `slot` to `go`; a failed thread is a `WORKER_FAILED` error. */
  waitFor(helper: BoundHelper, slot: number, go: number, what: string): void {
    const { control } = helper;
    waitForSlot(control, slot, go);
    if (control[SLOT.failed] === 1) {
      const error = receiveMessageOnPort(helper.helper.errors)?.message as ThreadError | undefined;
      const details = error === undefined ? {} : { name: error.name, stack: error.stack };
      throw agentsError('WORKER_FAILED', `an update thread could not ${what}: ${error?.message ?? 'it stopped without an error'}`, details);
    }
  }
}

async function startHelper(): Promise<Helper> {
  const channel = new MessageChannel();
  const workerData: UpdateWorkerData = { errors: channel.port2 };
  const worker = new Worker(WORKER.url, {
    workerData,
    transferList: [channel.port2],
    ...(WORKER.execArgv === undefined ? {} : { execArgv: WORKER.execArgv }),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
      worker.once('exit', (code) => reject(new Error(`it exited with code ${code}`)));
    });
  } catch (error) {
    channel.port1.close();
    throw error;
  }
  worker.removeAllListeners();
  worker.unref();
  channel.port1.unref();
  return { worker, errors: channel.port1 };
}

/** Options of {@link createUpdateThreads}. */
export interface UpdateThreadsOptions {
  /** Threads a minibatch is split over, the calling thread included (default: the machine's cores). */
  readonly threads?: number;
}

/**
 * Starts `threads - 1` helper threads for PPO's update (the calling thread is the other one).
 *
 * @example
 * const updateThreads = await createUpdateThreads({ threads: 2 });
 */
export async function createUpdateThreads(options: UpdateThreadsOptions = {}): Promise<UpdateThreads> {
  const threads = options.threads ?? availableParallelism();
  if (!Number.isInteger(threads) || threads < 1) throw agentsError('INVALID_OPTIONS', `threads must be a positive integer, got ${threads}`);
  const started = await Promise.allSettled(Array.from({ length: threads - 1 }, startHelper));
  const helpers = started.flatMap((s) => (s.status === 'fulfilled' ? [s.value] : []));
  const failure = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
  if (failure !== undefined) {
    await new UpdateThreads(threads, helpers).close();
    const why = failure.reason instanceof Error ? failure.reason.message : String(failure.reason);
    throw agentsError('WORKER_FAILED', `an update thread could not start: ${why}`);
  }
  return new UpdateThreads(threads, helpers);
}
