import { availableParallelism } from 'node:os';
import { MessageChannel, type MessagePort, Worker, receiveMessageOnPort } from 'node:worker_threads';
import type { ActorCritic } from './actorCritic';
import { agentsError } from './errors';
import { advantageScale } from './minibatch';
import { type PpoLossMetrics, type PpoLossOptions, type PpoLossSums, ppoLossMetrics, ppoLossSums } from './ppoLoss';
import type { RolloutBuffer } from './rolloutBuffer';
import { type BindMessage, COMMAND, SCALAR, SCALARS, SLOT, SLOTS, SUM_KEYS, type ThreadError, type UpdateWorkerData, waitWhile } from './updateThreadsProtocol';

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
  readonly gradients: Float32Array;
  readonly sums: Float64Array;
}

/**
 * Threads that share PPO's update: each minibatch is split into `threads` equal parts whose loss gradients
 * are computed at once (the calling thread takes the first part) and summed before the optimizer step, so
 * one update takes about `1 / threads` of the time. Pass it to `trainPpo` as `updateThreads`; one instance
 * serves any number of runs, one at a time. The run is deterministic for a given thread count; it differs
 * from the single-threaded run in float rounding only (the gradient is summed part by part).
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
   * Rebuilds `policy` in every helper thread and shares `buffer` (created `shared`) with them, for
   * minibatches of up to `batchSize` rows; the returned loss replaces `ppoLoss` until `release()`.
   */
  bind(policy: ActorCritic, buffer: RolloutBuffer, batchSize: number): BoundPpoLoss {
    if (this.closed) throw agentsError('INVALID_OPTIONS', 'these update threads are closed');
    if (this.bound) throw agentsError('INVALID_OPTIONS', 'these update threads already serve a training run');
    if (!(buffer.memory instanceof SharedArrayBuffer)) throw agentsError('INVALID_OPTIONS', 'the rollout buffer must be created with shared: true');
    const backend = policy.policyNet.backend.name;
    const partSize = Math.ceil(batchSize / this.threads);
    const parameterCount = policy.parameters().reduce((n, p) => n + p.length, 0);
    const scalars = new SharedArrayBuffer(SCALARS * 8);
    const parameters = new SharedArrayBuffer(parameterCount * 4);
    const bound = this.helpers.map((helper): BoundHelper => {
      const memory = {
        control: new SharedArrayBuffer(SLOTS * 4),
        rows: new SharedArrayBuffer(partSize * 4),
        gradients: new SharedArrayBuffer(parameterCount * 4),
        sums: new SharedArrayBuffer(SUM_KEYS.length * 8),
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
      };
      helper.worker.postMessage(message);
      return {
        helper,
        control,
        rows: new Int32Array(memory.rows),
        gradients: new Float32Array(memory.gradients),
        sums: new Float64Array(memory.sums),
      };
    });
    this.bound = true;
    const loss = new BoundPpoLoss({ policy, buffer, batchSize }, bound, new Float64Array(scalars), new Float32Array(parameters), () => {
      this.bound = false;
    });
    try {
      for (const b of bound) loss.waitFor(b, 0, 'build the policy');
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

/** `ppoLoss` over the threads of an {@link UpdateThreads}, for one training run. */
export class BoundPpoLoss {
  private go = 0;
  private released = false;

  constructor(
    private readonly run: { readonly policy: ActorCritic; readonly buffer: RolloutBuffer; readonly batchSize: number },
    private readonly helpers: readonly BoundHelper[],
    private readonly scalars: Float64Array,
    private readonly parameters: Float32Array,
    private readonly onRelease: () => void,
  ) {}

  /** `ppoLoss(options)`: the same metrics, and the whole minibatch's gradient in `policy.gradients()`. */
  readonly ppoLoss = (options: PpoLossOptions): PpoLossMetrics => {
    const { policy, buffer, rows } = options;
    const total = rows.length;
    if (policy !== this.run.policy || buffer !== this.run.buffer) throw agentsError('INVALID_OPTIONS', 'the update threads were bound to another policy and rollout');
    if (total > this.run.batchSize) throw agentsError('SHAPE_MISMATCH', `a minibatch of ${total} rows; the update threads were bound for ${this.run.batchSize}`);
    const scale = advantageScale(buffer, rows, options.normalizeAdvantage ?? true);
    let offset = 0;
    for (const tensor of policy.parameters()) {
      this.parameters.set(tensor, offset);
      offset += tensor.length;
    }
    const s = this.scalars;
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
    this.go++;
    this.helpers.forEach((h, i) => {
      const part = rows.subarray(bounds[i + 1]!, bounds[i + 2]!);
      h.rows.set(part);
      h.control[SLOT.rows] = part.length;
      h.control[SLOT.command] = COMMAND.loss;
      Atomics.store(h.control, SLOT.go, this.go);
      Atomics.notify(h.control, SLOT.go);
    });
    const sums: PpoLossSums = ppoLossSums(options, rows.subarray(0, bounds[1]!), scale, total);
    const gradients = policy.gradients();
    for (const h of this.helpers) {
      this.waitFor(h, this.go, 'compute its part of the gradient');
      offset = 0;
      for (const tensor of gradients) {
        for (let j = 0; j < tensor.length; j++) tensor[j]! += h.gradients[offset + j]!;
        offset += tensor.length;
      }
      SUM_KEYS.forEach((key, i) => {
        sums[key] += h.sums[i]!;
      });
    }
    return ppoLossMetrics(sums, total, options);
  };

  /** Returns the threads to their event loop, ready for the next run. */
  release(): void {
    if (this.released) return;
    this.released = true;
    this.go++;
    for (const h of this.helpers) {
      if (h.control[SLOT.failed] === 1) continue;
      h.control[SLOT.command] = COMMAND.release;
      Atomics.store(h.control, SLOT.go, this.go);
      Atomics.notify(h.control, SLOT.go);
    }
    for (const h of this.helpers) {
      while (h.control[SLOT.failed] === 0 && Atomics.load(h.control, SLOT.done) !== this.go) Atomics.wait(h.control, SLOT.done, Atomics.load(h.control, SLOT.done));
    }
    this.onRelease();
  }

  /** @internal Blocks until `helper` finished command `go`; a failed thread is a `WORKER_FAILED` error. */
  waitFor(helper: BoundHelper, go: number, what: string): void {
    const { control } = helper;
    for (let done = Atomics.load(control, SLOT.done); done !== go; done = Atomics.load(control, SLOT.done)) waitWhile(control, SLOT.done, done);
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
