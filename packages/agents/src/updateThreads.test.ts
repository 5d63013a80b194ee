import { Worker } from 'node:worker_threads';
import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ActorCritic } from './actorCritic';
import { createCheckpoint, resumeState } from './checkpoint';
import { createMinibatch } from './minibatch';
import { clipGradNorm, createAdam } from './optimizers';
import { trainPpo } from './ppo';
import { type PpoLossOptions, ppoLoss } from './ppoLoss';
import { RolloutCollector } from './rolloutCollector';
import { type UpdateThreads, createUpdateThreads } from './updateThreads';

/** A collected CartPole rollout in shared memory, a minibatch of its rows, and the policy moved off the rollout's. */
function setup(batch: number) {
  const rng = createRng(5);
  const policy = new ActorCritic({ observationSize: 4, nvec: [2], hiddenSizes: [16, 16], maxBatch: batch });
  policy.init(rng.fork());
  const envs = new SyncVectorEnv([() => createCartPole(), () => createCartPole()]);
  const collector = new RolloutCollector({ envs, policy, nSteps: 128, gamma: 0.99, gaeLambda: 0.95, seed: 0, rng: rng.fork(), sharedBuffer: true });
  collector.collect();
  const { buffer } = collector;
  const indices = new Int32Array(buffer.size);
  const count = buffer.shuffledValidIndices(rng.fork(), indices);
  const options: PpoLossOptions = {
    policy,
    buffer,
    rows: indices.subarray(0, Math.min(batch, count)),
    minibatch: createMinibatch(buffer, batch),
    clipRange: 0.05,
    clipRangeVf: 0.1,
    entCoef: 0.3,
    vfCoef: 0.5,
  };
  // Some Adam steps so ratios leave 1 ± ε and values leave the clip range: every branch of the loss is used.
  const adam = createAdam({ sizes: policy.parameters().map((p) => p.length), learningRate: 0.01 });
  for (let k = 0; k < 3; k++) {
    ppoLoss(options);
    adam.step(policy.parameters(), policy.gradients());
  }
  return { options, envs };
}

const maxAbs = (a: Float32Array[]) => Math.max(...a.map((g) => g.reduce((m, x) => Math.max(m, Math.abs(x)), 0)));

describe('UpdateThreads', () => {
  let threads: UpdateThreads;
  beforeAll(async () => {
    threads = await createUpdateThreads({ threads: 3 });
  });
  afterAll(async () => {
    await threads.close();
  });

  it("splits a minibatch's loss and optimizer step over the threads: ppoLoss, clipGradNorm and Adam's results", () => {
    const { options, envs } = setup(100);
    const { policy } = options;
    const sizes = policy.parameters().map((p) => p.length);
    const start = policy.parameters().map((p) => Float32Array.from(p));
    const second = { ...options, rows: options.rows.subarray(0, 60) };
    // The single-threaded reference: two minibatches, each clipped and stepped.
    const adam = createAdam({ sizes, learningRate: 0.01 });
    const single = ppoLoss(options);
    const norms = [clipGradNorm(policy.gradients(), 0.5)];
    adam.step(policy.parameters(), policy.gradients());
    const singleSecond = ppoLoss(second);
    norms.push(clipGradNorm(policy.gradients(), 0.5));
    adam.step(policy.parameters(), policy.gradients());
    const expected = policy.parameters().map((p) => Float32Array.from(p));
    policy.parameters().forEach((p, t) => p.set(start[t]!));

    const shared = createAdam({ sizes, learningRate: 0.01, shared: true });
    const bound = threads.bind(policy, options.buffer, 100, shared);
    try {
      expect(() => bound.step(0.5)).toThrow(/ppoLoss\(\) first/);
      const split = bound.ppoLoss(options);
      expect(split.clipFraction).toBeGreaterThan(0);
      expect(split.clipFraction).toBe(single.clipFraction);
      for (const key of ['loss', 'policyLoss', 'valueLoss', 'entropy', 'approxKl', 'oldApproxKl'] as const) {
        expect(split[key]).toBeCloseTo(single[key], 6);
      }
      // The first norm is clipped, so the coefficient shared between the threads is used.
      expect(norms[0]).toBeGreaterThan(0.5);
      expect(bound.step(0.5)).toBeCloseTo(norms[0]!, 5);
      expect(bound.ppoLoss(second).policyLoss).toBeCloseTo(singleSecond.policyLoss, 6);
      expect(bound.step(0.5)).toBeCloseTo(norms[1]!, 5);
      const moved = maxAbs(expected.map((p, t) => p.map((x, j) => x - start[t]![j]!)));
      expect(moved).toBeGreaterThan(1e-3);
      const drift = maxAbs(policy.parameters().map((p, t) => p.map((x, j) => x - expected[t]![j]!)));
      expect(drift).toBeLessThan(1e-4 * moved);
      const moments = (o: typeof adam) => o.exportState().moments;
      const scale = maxAbs([...moments(adam)]);
      expect(maxAbs(moments(shared).map((m, t) => m.map((x, j) => x - moments(adam)[t]![j]!)))).toBeLessThan(1e-4 * scale);
      expect(shared.exportState().steps).toBe(2);
    } finally {
      bound.release();
      envs.close();
    }
  });

  it('trains PPO deterministically for a thread count, and serves one run after another', () => {
    const run = () => {
      const envs = new SyncVectorEnv(Array.from({ length: 4 }, () => () => createCartPole()));
      const result = trainPpo({ envs, totalTimesteps: 2048, seed: 3, nSteps: 128, batchSize: 128, nEpochs: 4, updateThreads: threads });
      envs.close();
      return result.policy.parameters().map((p) => Array.from(p));
    };
    const first = run();
    expect(run()).toEqual(first);
    const envs = new SyncVectorEnv(Array.from({ length: 4 }, () => () => createCartPole()));
    const single = trainPpo({ envs, totalTimesteps: 2048, seed: 3, nSteps: 128, batchSize: 128, nEpochs: 4 });
    envs.close();
    // Only float rounding separates the threaded run from the single-threaded one.
    const drift = Math.max(...single.policy.parameters().flatMap((p, t) => Array.from(p, (x, j) => Math.abs(x - first[t]![j]!))));
    expect(drift).toBeLessThan(1e-3);
  });

  it("keeps the optimizer state every thread stepped, for checkpoints and a resumed run", () => {
    const run = (totalTimesteps: number, resume?: ReturnType<typeof resumeState>) => {
      const envs = new SyncVectorEnv(Array.from({ length: 2 }, () => () => createCartPole()));
      const result = trainPpo({ envs, totalTimesteps, seed: 3, nSteps: 64, batchSize: 64, nEpochs: 2, updateThreads: threads, ...(resume === undefined ? {} : { resume }) });
      envs.close();
      return result;
    };
    const first = run(256);
    // Every moment tensor was stepped, the helpers' parts of the parameters included.
    for (const moment of first.optimizer.moments) expect(moment.some((x) => x !== 0)).toBe(true);
    // The last elements are in the last thread's part.
    const last = (m: Float32Array) => m.subarray(m.length - 4);
    expect(last(first.optimizer.moments.at(-1)!).some((x) => x !== 0)).toBe(true);
    const resumed = run(512, resumeState(createCheckpoint(first)));
    expect(resumed.optimizer.steps).toBe(2 * first.optimizer.steps);
  });

  it('binds and releases thousands of times, never waiting for a wake-up that already happened', async () => {
    const cycles = 3000;
    const worker = new Worker(new URL('./updateThreadsRelease.testing.mjs', import.meta.url), { workerData: { cycles }, execArgv: ['--conditions=@kflow/source'] });
    try {
      const done = await new Promise((resolve, reject) => {
        const deadline = setTimeout(() => reject(new Error(`bind/release did not finish ${cycles} cycles in 45 s`)), 45_000);
        worker.once('message', (m) => {
          clearTimeout(deadline);
          resolve(m);
        });
        worker.once('error', (error) => {
          clearTimeout(deadline);
          reject(error);
        });
      });
      expect(done).toBe(cycles);
    } finally {
      await worker.terminate();
    }
  }, 60_000);

  it('refuses a rollout that is not in shared memory, and a second run at once', () => {
    const { options, envs } = setup(64);
    const rng = createRng(1);
    const policy = new ActorCritic({ observationSize: 4, nvec: [2] });
    policy.init(rng);
    const plain = new RolloutCollector({ envs, policy, nSteps: 8, gamma: 0.99, gaeLambda: 0.95, seed: 0, rng });
    const optimizer = createAdam({ sizes: options.policy.parameters().map((p) => p.length), learningRate: 0.01, shared: true });
    expect(() => threads.bind(policy, plain.buffer, 64, optimizer)).toThrow(/shared: true/);
    expect(() => threads.bind(options.policy, options.buffer, 64, createAdam({ sizes: [1], learningRate: 0.01 }))).toThrow(/createAdam\(\{ shared: true \}\)/);
    expect(() => threads.bind(options.policy, options.buffer, 64, createAdam({ sizes: [1], learningRate: 0.01, shared: true }))).toThrow(/tensors of \[1\]/);
    const bound = threads.bind(options.policy, options.buffer, 64, optimizer);
    try {
      expect(() => threads.bind(options.policy, options.buffer, 64, optimizer)).toThrow(/already serve/);
    } finally {
      bound.release();
      envs.close();
    }
  });

  it('refuses a minibatch of another run or larger than the one it was bound for', () => {
    const { options, envs } = setup(64);
    const other = setup(64);
    const bound = threads.bind(options.policy, options.buffer, 32, createAdam({ sizes: options.policy.parameters().map((p) => p.length), learningRate: 0.01, shared: true }));
    try {
      expect(() => bound.ppoLoss(options)).toThrow(/64 rows.*32/);
      expect(() => bound.ppoLoss({ ...other.options, rows: options.rows.subarray(0, 32) })).toThrow(/policy and rollout/);
    } finally {
      bound.release();
      envs.close();
      other.envs.close();
    }
  });
});
