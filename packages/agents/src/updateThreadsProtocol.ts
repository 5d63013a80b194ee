// What the main thread and an update thread share (updateThreads.ts, updateWorker.ts).
import type { MessagePort } from 'node:worker_threads';
import type { Activation } from './mlp';

/** Int32 slots of one update thread's control block. */
export const SLOT = {
  /** Bumped by the main thread to hand over a command. */
  go: 0,
  /** Set to the command's `go` value by the thread when it is done with it. */
  done: 1,
  /** What `go` asks for: {@link COMMAND}. */
  command: 2,
  /** Rows of the thread's part of the minibatch. */
  rows: 3,
  /** 1 once the thread failed or exited; its error follows on the thread's port. */
  failed: 4,
} as const;
export const SLOTS = 5;

export const COMMAND = { loss: 1, release: 2 } as const;

/** Float64 slots of the loss settings every thread reads. */
export const SCALAR = { clipRange: 0, clipRangeVf: 1, entCoef: 2, vfCoef: 3, advantageMean: 4, advantageStd: 5, total: 6 } as const;
export const SCALARS = 7;

/** Sums a thread returns, in `PpoLossSums` order. */
export const SUM_KEYS = ['policyLoss', 'valueLoss', 'entropy', 'oldApproxKl', 'approxKl', 'clipped'] as const;

/** Sent once per training run: the network to rebuild and the shared memory to work in. */
export interface BindMessage {
  readonly kind: 'bind';
  readonly policy: {
    readonly observationSize: number;
    readonly nvec: readonly number[];
    readonly hiddenSizes: readonly number[];
    readonly activation: Activation;
    readonly shared: boolean;
    readonly backend: 'js' | 'wasm';
  };
  readonly rollout: {
    readonly nSteps: number;
    readonly nEnvs: number;
    readonly observationSize: number;
    readonly actionDims: number;
    readonly maskSize: number;
    readonly memory: SharedArrayBuffer;
  };
  /** Most rows a thread's part of a minibatch has. */
  readonly partSize: number;
  /** This thread's control block (`SLOTS` int32). */
  readonly control: SharedArrayBuffer;
  /** Minibatch row indices of this thread's part (`partSize` int32). */
  readonly rows: SharedArrayBuffer;
  /** `SCALARS` float64, shared by all threads. */
  readonly scalars: SharedArrayBuffer;
  /** The policy's parameters, all tensors end to end (float32), shared by all threads. */
  readonly parameters: SharedArrayBuffer;
  /** This thread's gradient, laid out as `parameters`. */
  readonly gradients: SharedArrayBuffer;
  /** This thread's `SUM_KEYS` sums (float64). */
  readonly sums: SharedArrayBuffer;
}

/** What an update thread is started with. */
export interface UpdateWorkerData {
  /** Where the thread reports an error before it marks itself failed. */
  readonly errors: MessagePort;
}

/** An error as it crosses threads. */
export interface ThreadError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** How long a thread spins on a slot before it sleeps: waking from a futex costs tens of microseconds, a minibatch part a few hundred. */
const SPIN_MS = 1;

/** Returns once `array[index]` is no longer `value`: spins briefly, then sleeps in `Atomics.wait`. */
export function waitWhile(array: Int32Array, index: number, value: number): void {
  const until = performance.now() + SPIN_MS;
  while (Atomics.load(array, index) === value) {
    if (performance.now() > until) {
      Atomics.wait(array, index, value);
      return;
    }
  }
}
