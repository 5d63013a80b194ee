import { agentsError } from './errors';
import { type Arena, type Backend, type Kernels, jsBackend } from './kernels';
import { KERNELS_WASM_BASE64 } from './wasmKernels.generated';

interface KernelExports {
  linearForward(x: number, w: number, b: number, y: number, batch: number, inSize: number, outSize: number, act: number): void;
  linearBackward(
    dy: number,
    y: number,
    x: number,
    w: number,
    dw: number,
    db: number,
    dx: number,
    batch: number,
    inSize: number,
    outSize: number,
    act: number,
  ): void;
}

/** The slice of the WebAssembly JS API used here (the compile target's lib has no DOM types). */
interface WasmApi {
  validate(bytes: Uint8Array): boolean;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { readonly exports: unknown };
  Memory: new (descriptor: { initial: number }) => { readonly buffer: ArrayBuffer };
}

const wasmApi = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
let compiled: object | null | undefined;

/** The kernel module, compiled once; null when the runtime lacks WebAssembly SIMD. */
function kernelModule(): object | null {
  if (compiled === undefined) {
    const bytes = Uint8Array.from(atob(KERNELS_WASM_BASE64), (c) => c.charCodeAt(0));
    compiled = wasmApi !== undefined && wasmApi.validate(bytes) ? new wasmApi.Module(bytes) : null;
  }
  return compiled;
}

/** Whether this runtime can run the WebAssembly SIMD kernels (Node ≥ 16.4, current browsers). */
export function isWasmSimdSupported(): boolean {
  return kernelModule() !== null;
}

/**
 * WebAssembly SIMD (f32x4) kernels from `wasm/kernels.wat`: PPO on CartPole (64×64) trains 10–15× faster
 * than on the TypeScript kernels. Each arena is its own fixed-size `WebAssembly.Memory`, so views into it
 * never detach; the kernels must only be given views of their own arena (an `Mlp` guarantees that). tanh
 * uses a rational approximation (|error| < 4e-7), so results differ from the TypeScript backend in the
 * last bits.
 *
 * @example
 * const net = new Mlp({ inputSize: 4, hiddenSizes: [64, 64], outputSize: 2, backend: wasmBackend });
 */
export const wasmBackend: Backend = {
  name: 'wasm',
  createArena(floats: number): Arena {
    const module = kernelModule();
    if (module === null || wasmApi === undefined) throw agentsError('UNSUPPORTED_RUNTIME', 'this runtime has no WebAssembly SIMD; use jsBackend');
    const memory = new wasmApi.Memory({ initial: Math.max(1, Math.ceil((floats * 4) / 65536)) });
    const exports = new wasmApi.Instance(module, { env: { memory } }).exports as unknown as KernelExports;
    const kernels: Kernels = {
      name: 'wasm',
      linearForward: (x, w, b, y, batch, inSize, outSize, act) =>
        exports.linearForward(x.byteOffset, w.byteOffset, b.byteOffset, y.byteOffset, batch, inSize, outSize, act),
      linearBackward: (dy, y, x, w, dw, db, dx, batch, inSize, outSize, act) =>
        exports.linearBackward(
          dy.byteOffset,
          y.byteOffset,
          x.byteOffset,
          w.byteOffset,
          dw.byteOffset,
          db.byteOffset,
          dx === undefined ? -1 : dx.byteOffset,
          batch,
          inSize,
          outSize,
          act,
        ),
    };
    return { heap: new Float32Array(memory.buffer, 0, floats), kernels };
  },
};

/** The fastest backend this runtime supports: wasm SIMD when available, else TypeScript. */
export function defaultBackend(): Backend {
  return isWasmSimdSupported() ? wasmBackend : jsBackend;
}
