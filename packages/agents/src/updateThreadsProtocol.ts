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
  /** Set to a step's `go` by the thread once its part of the gradient is summed and its squares are in `sums`. */
  summed: 5,
  /** Set to a step's `go` by the main thread once the clip coefficient is in the scalars. */
  clipped: 6,
} as const;
export const SLOTS = 7;

export const COMMAND = { loss: 1, step: 2, release: 3 } as const;

/** Float64 slots of the settings every thread reads: the loss's, then the optimizer step's. */
export const SCALAR = {
  clipRange: 0,
  clipRangeVf: 1,
  entCoef: 2,
  vfCoef: 3,
  advantageMean: 4,
  advantageStd: 5,
  total: 6,
  beta1: 7,
  beta2: 8,
  eps: 9,
  stepSize: 10,
  bc2Sqrt: 11,
  coef: 12,
} as const;
export const SCALARS = 13;

/** Sums a thread returns, in `PpoLossSums` order; after a step's summing, the squares of its part of the gradient follow. */
export const SUM_KEYS = ['policyLoss', 'valueLoss', 'entropy', 'oldApproxKl', 'approxKl', 'clipped'] as const;
export const SQUARES = SUM_KEYS.length;

/** The part `[from, to)` of one tensor in a flat range over the tensors laid end to end (`offset`: the tensor's first element). */
export interface Piece {
  readonly tensor: number;
  readonly offset: number;
  readonly from: number;
  readonly to: number;
}

/** The pieces of the flat range `[from, to)` over tensors of `sizes` laid end to end. */
export function piecesOf(sizes: readonly number[], from: number, to: number): Piece[] {
  const pieces: Piece[] = [];
  let offset = 0;
  sizes.forEach((size, tensor) => {
    const start = Math.max(from, offset);
    const end = Math.min(to, offset + size);
    if (start < end) pieces.push({ tensor, offset, from: start - offset, to: end - offset });
    offset += size;
  });
  return pieces;
}

/** Thread `index`'s part of the parameters (the main thread is 0): equal flat ranges in order. */
export function parameterPart(sizes: readonly number[], threads: number, index: number): Piece[] {
  const total = sizes.reduce((n, size) => n + size, 0);
  return piecesOf(sizes, Math.round((index * total) / threads), Math.round(((index + 1) * total) / threads));
}

/**
 * Sums the minibatch's gradient on `pieces`: `own` (the main thread's gradient tensors or its shared copy)
 * plus every helper's, in thread order, stored in `into`. Returns the sum of squares of the stored values.
 */
export function sumGradientPart(
  pieces: readonly Piece[],
  own: (piece: Piece) => { readonly array: Float32Array; readonly at: number },
  helpers: readonly Float32Array[],
  into: readonly Float32Array[],
): number {
  let squares = 0;
  for (const piece of pieces) {
    const { array, at } = own(piece);
    const target = into[piece.tensor]!;
    const { offset, from, to } = piece;
    // Two threads are the common case; its loop without the inner one is about twice as fast.
    if (helpers.length === 1) {
      const h = helpers[0]!;
      for (let i = from; i < to; i++) {
        const stored = Math.fround(array[at + i]! + h[offset + i]!);
        target[i] = stored;
        squares += stored * stored;
      }
      continue;
    }
    for (let i = from; i < to; i++) {
      let g = array[at + i]!;
      for (let k = 0; k < helpers.length; k++) g += helpers[k]![offset + i]!;
      const stored = Math.fround(g);
      target[i] = stored;
      squares += stored * stored;
    }
  }
  return squares;
}

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
  /** This thread's `SUM_KEYS` sums and squares (float64). */
  readonly sums: SharedArrayBuffer;
  /** This thread's index (the main thread is 0), and how many threads share the work. */
  readonly index: number;
  readonly threads: number;
  /** Every helper's gradient buffer, in thread order (this thread's among them). */
  readonly helperGradients: readonly SharedArrayBuffer[];
  /** The main thread's gradient, laid out as `parameters` (it copies there what other threads sum). */
  readonly mainGradients: SharedArrayBuffer;
  /** The optimizer's moments (`SharedAdam.moments`): first moments of every tensor end to end, then second. */
  readonly moments: SharedArrayBuffer;
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

/**
 * How long a thread spins on a slot before it sleeps. A thread asleep in `Atomics.wait` took about 1 ms to
 * wake on a 2-vCPU VM (the host reschedules an idle vCPU), longer than a minibatch part; 20 ms also covers
 * a rollout of `KALSHI_PPO`, so the helpers are awake when the update starts.
 */
const SPIN_MS = 20;

/** Views of `memory` as tensors of `sizes` end to end, from float `start`. */
export function tensorViews(memory: SharedArrayBuffer, sizes: readonly number[], start = 0): Float32Array[] {
  let offset = start;
  return sizes.map((size) => {
    const view = new Float32Array(memory, offset * 4, size);
    offset += size;
    return view;
  });
}

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

/**
 * Returns once `control[slot]` is `go`, or the thread of `control` failed. Each wait is on the value just
 * compared: reading the slot again for the wait could see `go` and sleep for good.
 */
export function waitForSlot(control: Int32Array, slot: number, go: number): void {
  for (let value = Atomics.load(control, slot); value !== go && Atomics.load(control, SLOT.failed) === 0; value = Atomics.load(control, slot)) waitWhile(control, slot, value);
}
