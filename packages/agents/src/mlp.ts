import { agentsError } from './errors';
import type { ActivationCode, Arena, Backend } from './kernels';
import { defaultBackend } from './wasmBackend';

/** Hidden-layer nonlinearity. */
export type Activation = 'tanh' | 'relu';

/** Options of {@link Mlp}. */
export interface MlpOptions {
  inputSize: number;
  /** Hidden layer widths, e.g. `[64, 64]` (SB3's default). May be empty (a linear model). */
  hiddenSizes: readonly number[];
  outputSize: number;
  /** Default `'tanh'` (SB3's default for PPO/A2C). */
  activation?: Activation;
  /** Largest batch to size buffers for up front; larger batches grow the buffers (allocating once). */
  maxBatch?: number;
  /** Kernel backend; default `defaultBackend()` (wasm SIMD when available). */
  backend?: Backend;
}

interface Layer {
  readonly inSize: number;
  readonly outSize: number;
  readonly act: ActivationCode;
  /** Offsets (in floats) of the weights and biases inside `params`/`grads`. */
  readonly wOffset: number;
  readonly bOffset: number;
}

/**
 * A fully connected network on `Float32Array`s with manual backprop. Parameters, gradients and
 * activations live in one arena (plain memory, or WebAssembly memory for the wasm backend); the weight
 * matrix of layer `l` is row-major `[outSize × inSize]` at `layerWeights(l)`, followed by its bias.
 *
 * @example
 * const net = new Mlp({ inputSize: 4, hiddenSizes: [64, 64], outputSize: 2 });
 * const logits = net.forward(observations, batch);   // view of batch×2 floats
 * net.backward(dLogits, batch);                      // fills net.grads
 */
export class Mlp {
  readonly inputSize: number;
  readonly outputSize: number;
  readonly hiddenSizes: readonly number[];
  readonly activation: Activation;
  readonly paramCount: number;
  readonly backend: Backend;
  private readonly layers: readonly Layer[];
  private readonly maxWidth: number;
  private arena!: Arena;
  private capacity = 0;
  private paramsView!: Float32Array;
  private gradsView!: Float32Array;
  private acts: Float32Array[] = [];
  /** Per-layer views of weights, biases and their gradients, rebuilt with the arena. */
  private w: Float32Array[] = [];
  private b: Float32Array[] = [];
  private dw: Float32Array[] = [];
  private db: Float32Array[] = [];
  private scratchA!: Float32Array;
  private scratchB!: Float32Array;
  private lastBatch = -1;

  constructor(options: MlpOptions) {
    const sizes = [options.inputSize, ...options.hiddenSizes, options.outputSize];
    if (!sizes.every((s) => Number.isInteger(s) && s > 0)) {
      throw agentsError('INVALID_OPTIONS', `layer sizes must be positive integers, got [${sizes.join(', ')}]`);
    }
    this.inputSize = options.inputSize;
    this.outputSize = options.outputSize;
    this.hiddenSizes = [...options.hiddenSizes];
    this.activation = options.activation ?? 'tanh';
    this.backend = options.backend ?? defaultBackend();
    const act: ActivationCode = this.activation === 'tanh' ? 1 : 2;
    const layers: Layer[] = [];
    let offset = 0;
    for (let l = 0; l + 1 < sizes.length; l++) {
      const inSize = sizes[l]!;
      const outSize = sizes[l + 1]!;
      layers.push({ inSize, outSize, act: l + 2 < sizes.length ? act : 0, wOffset: offset, bOffset: offset + inSize * outSize });
      offset += inSize * outSize + outSize;
    }
    this.layers = layers;
    this.paramCount = offset;
    this.maxWidth = Math.max(...sizes);
    this.allocate(Math.max(1, options.maxBatch ?? 1));
  }

  /** All parameters, layer by layer (weights then bias). A view: re-read it after a call that may grow buffers. */
  get params(): Float32Array {
    return this.paramsView;
  }

  /** Gradients written by `backward`, same layout as `params`. */
  get grads(): Float32Array {
    return this.gradsView;
  }

  /** Number of dense layers (hidden layers + output layer). */
  get layerCount(): number {
    return this.layers.length;
  }

  /** Shape of layer `l`: `[outSize, inSize]`. */
  layerShape(l: number): readonly [number, number] {
    const layer = this.layer(l);
    return [layer.outSize, layer.inSize];
  }

  /** Row-major weights of layer `l` (a view into `params`). */
  layerWeights(l: number): Float32Array {
    this.layer(l);
    return this.w[l]!;
  }

  /** Bias of layer `l` (a view into `params`). */
  layerBias(l: number): Float32Array {
    this.layer(l);
    return this.b[l]!;
  }

  /**
   * Runs `batch` rows of `input` (row-major, `batch × inputSize`) through the network and returns a view
   * whose first `batch × outputSize` floats are the outputs, valid until the next call.
   */
  forward(input: Float32Array, batch: number): Float32Array {
    if (input.length < batch * this.inputSize) {
      throw agentsError('SHAPE_MISMATCH', `input has ${input.length} floats, need ${batch} × ${this.inputSize}`);
    }
    if (batch > this.capacity) this.allocate(Math.max(batch, this.capacity * 2));
    const { kernels } = this.arena;
    const acts = this.acts;
    const x = acts[0]!;
    const n = batch * this.inputSize;
    for (let i = 0; i < n; i++) x[i] = input[i]!;
    for (let l = 0; l < this.layers.length; l++) {
      const layer = this.layers[l]!;
      kernels.linearForward(
        acts[l]!,
        this.w[l]!,
        this.b[l]!,
        acts[l + 1]!,
        batch,
        layer.inSize,
        layer.outSize,
        layer.act,
      );
    }
    this.lastBatch = batch;
    // The view may be longer than batch × outputSize; rows beyond `batch` are stale.
    return acts[this.layers.length]!;
  }

  /**
   * Backpropagates `dOutput` (`batch × outputSize`, the gradient of a loss summed over the batch) through
   * the activations of the immediately preceding `forward(…, batch)` and overwrites `grads`.
   */
  backward(dOutput: Float32Array, batch: number): void {
    if (batch !== this.lastBatch) {
      throw agentsError('SHAPE_MISMATCH', `backward(batch=${batch}) must follow forward with the same batch`);
    }
    const { kernels } = this.arena;
    let dCur = this.scratchA;
    let dNext = this.scratchB;
    const n = batch * this.outputSize;
    for (let i = 0; i < n; i++) dCur[i] = dOutput[i]!;
    for (let l = this.layers.length - 1; l >= 0; l--) {
      const layer = this.layers[l]!;
      kernels.linearBackward(
        dCur,
        this.acts[l + 1]!,
        this.acts[l]!,
        this.w[l]!,
        this.dw[l]!,
        this.db[l]!,
        l > 0 ? dNext : undefined,
        batch,
        layer.inSize,
        layer.outSize,
        // The output layer has no activation; hidden layers undo theirs before the product.
        layer.act,
      );
      const t = dCur;
      dCur = dNext;
      dNext = t;
    }
  }

  private layer(l: number): Layer {
    const layer = this.layers[l];
    if (layer === undefined) throw agentsError('INVALID_OPTIONS', `layer ${l} out of range`);
    return layer;
  }

  /** (Re)builds the arena for `capacity` rows, carrying parameters and gradients over. */
  private allocate(capacity: number): void {
    const sizes = [this.inputSize, ...this.layers.map((l) => l.outSize)];
    const actFloats = sizes.reduce((s, n) => s + align(n * capacity), 0);
    const scratch = align(this.maxWidth * capacity);
    const p = align(this.paramCount);
    const arena = this.backend.createArena(2 * p + actFloats + 2 * scratch);
    const heap = arena.heap;
    const params = heap.subarray(0, this.paramCount);
    const grads = heap.subarray(p, p + this.paramCount);
    if (this.capacity > 0) {
      params.set(this.paramsView);
      grads.set(this.gradsView);
    }
    let offset = 2 * p;
    this.acts = sizes.map((n) => {
      const view = heap.subarray(offset, offset + n * capacity);
      offset += align(n * capacity);
      return view;
    });
    this.scratchA = heap.subarray(offset, offset + this.maxWidth * capacity);
    this.scratchB = heap.subarray(offset + scratch, offset + scratch + this.maxWidth * capacity);
    this.w = this.layers.map((l) => params.subarray(l.wOffset, l.bOffset));
    this.b = this.layers.map((l) => params.subarray(l.bOffset, l.bOffset + l.outSize));
    this.dw = this.layers.map((l) => grads.subarray(l.wOffset, l.bOffset));
    this.db = this.layers.map((l) => grads.subarray(l.bOffset, l.bOffset + l.outSize));
    this.arena = arena;
    this.paramsView = params;
    this.gradsView = grads;
    this.capacity = capacity;
  }
}

/** Rounds a float count up to 16 floats (64 bytes) so every buffer starts on a cache line. */
function align(floats: number): number {
  return (floats + 15) & ~15;
}
