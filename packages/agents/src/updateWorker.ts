// An update thread of `UpdateThreads` (updateThreads.ts): per training run it rebuilds the policy's network
// and views of the shared rollout, then, in a blocking loop driven through shared memory (no event-loop turn
// per minibatch), computes its part of each minibatch's PPO loss gradient and takes the optimizer step on
// its part of the parameters.
import { parentPort, workerData } from 'node:worker_threads';
import { ActorCritic } from './actorCritic';
import { agentsError } from './errors';
import { jsBackend } from './kernels';
import { createMinibatch } from './minibatch';
import { adamUpdate } from './optimizers';
import { ppoLossSums } from './ppoLoss';
import { RolloutBuffer } from './rolloutBuffer';
import {
  type BindMessage,
  COMMAND,
  SCALAR,
  SLOT,
  SQUARES,
  SUM_KEYS,
  type ThreadError,
  type UpdateWorkerData,
  parameterPart,
  sumGradientPart,
  tensorViews,
  waitForSlot,
  waitWhile,
} from './updateThreadsProtocol';
import { wasmBackend } from './wasmBackend';

if (parentPort === null) throw agentsError('INVALID_OPTIONS', 'updateWorker runs as a thread of UpdateThreads, not on its own');
const { errors } = workerData as UpdateWorkerData;
let current: Int32Array | undefined;

function fail(error: unknown): void {
  const e = error instanceof Error ? error : new Error(String(error));
  errors.postMessage({ name: e.name, message: e.message, ...(e.stack === undefined ? {} : { stack: e.stack }) } satisfies ThreadError);
  if (current === undefined) return;
  Atomics.store(current, SLOT.failed, 1);
  Atomics.store(current, SLOT.done, Atomics.load(current, SLOT.go));
  Atomics.notify(current, SLOT.done);
  Atomics.notify(current, SLOT.summed);
  current = undefined;
}

// A thread that ends while bound must not leave the main thread waiting for it.
process.on('exit', () => fail(new Error('the update thread exited')));

function serve(bind: BindMessage): void {
  const control = new Int32Array(bind.control);
  current = control;
  const p = bind.policy;
  const policy = new ActorCritic({
    observationSize: p.observationSize,
    nvec: p.nvec,
    hiddenSizes: p.hiddenSizes,
    activation: p.activation,
    shared: p.shared,
    backend: p.backend === 'wasm' ? wasmBackend : jsBackend,
    maxBatch: bind.partSize,
  });
  const r = bind.rollout;
  const buffer = new RolloutBuffer({ ...r, memory: r.memory });
  const minibatch = createMinibatch(buffer, bind.partSize);
  const rows = new Int32Array(bind.rows);
  const scalars = new Float64Array(bind.scalars);
  const parameters = new Float32Array(bind.parameters);
  const gradients = new Float32Array(bind.gradients);
  const sums = new Float64Array(bind.sums);
  const ready = (go: number) => {
    Atomics.store(control, SLOT.done, go);
    Atomics.notify(control, SLOT.done);
  };
  ready(0);
  const sizes = policy.parameters().map((p) => p.length);
  const part = parameterPart(sizes, bind.threads, bind.index);
  const mainGradients = new Float32Array(bind.mainGradients);
  const helperGradients = bind.helperGradients.map((memory) => new Float32Array(memory));
  const parameterViews = tensorViews(bind.parameters, sizes);
  const moments = tensorViews(bind.moments, [...sizes, ...sizes]);

  /** This thread's part of the minibatch's loss gradient, into `gradients` (all parameters). */
  const loss = () => {
    let offset = 0;
    for (const tensor of policy.parameters()) {
      tensor.set(parameters.subarray(offset, offset + tensor.length));
      offset += tensor.length;
    }
    const clipRangeVf = scalars[SCALAR.clipRangeVf]!;
    const result = ppoLossSums(
      {
        policy,
        buffer,
        rows,
        minibatch,
        clipRange: scalars[SCALAR.clipRange]!,
        clipRangeVf: Number.isNaN(clipRangeVf) ? null : clipRangeVf,
        entCoef: scalars[SCALAR.entCoef]!,
        vfCoef: scalars[SCALAR.vfCoef]!,
      },
      rows.subarray(0, control[SLOT.rows]!),
      { mean: scalars[SCALAR.advantageMean]!, std: scalars[SCALAR.advantageStd]! },
      scalars[SCALAR.total]!,
    );
    offset = 0;
    for (const tensor of policy.gradients()) {
      gradients.set(tensor, offset);
      offset += tensor.length;
    }
    SUM_KEYS.forEach((key, i) => {
      sums[i] = result[key];
    });
  };

  /** The optimizer step on this thread's part: sum the part's gradient, wait for the clip coefficient, Adam. */
  const step = (go: number) => {
    const own = policy.gradients();
    sums[SQUARES] = sumGradientPart(part, (piece) => ({ array: mainGradients, at: piece.offset }), helperGradients, own);
    Atomics.store(control, SLOT.summed, go);
    Atomics.notify(control, SLOT.summed);
    waitForSlot(control, SLOT.clipped, go);
    const constants = {
      beta1: scalars[SCALAR.beta1]!,
      beta2: scalars[SCALAR.beta2]!,
      eps: scalars[SCALAR.eps]!,
      stepSize: scalars[SCALAR.stepSize]!,
      bc2Sqrt: scalars[SCALAR.bc2Sqrt]!,
    };
    const coef = scalars[SCALAR.coef]!;
    const params = policy.parameters();
    const n = sizes.length;
    for (const { tensor, from, to } of part) {
      adamUpdate(params[tensor]!, own[tensor]!, moments[tensor]!, moments[n + tensor]!, from, to, coef, constants);
      parameterViews[tensor]!.set(params[tensor]!.subarray(from, to), from);
    }
  };

  let go = 0;
  for (;;) {
    waitWhile(control, SLOT.go, go);
    go = Atomics.load(control, SLOT.go);
    const command = control[SLOT.command];
    if (command === COMMAND.release) {
      current = undefined;
      ready(go);
      return;
    }
    if (command === COMMAND.step) step(go);
    else loss();
    ready(go);
  }
}

parentPort.on('message', (message: BindMessage) => {
  try {
    serve(message);
  } catch (error) {
    fail(error);
  }
});
parentPort.postMessage('online');
