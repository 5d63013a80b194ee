// A thread for updateThreads.test.ts: binds update threads to a run and releases them `cycles` times, then
// posts the count. It runs apart from the test's thread so that a lost wake-up (a thread asleep for good)
// fails the test by its deadline instead of blocking the test runner.
import { parentPort, workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
const { ActorCritic, RolloutCollector, createAdam, createMinibatch, createUpdateThreads } = await import('./index.ts');
const { SyncVectorEnv, createCartPole } = await import('@kflow/env');
const { createRng } = await import('@kflow/orderbook');

const threads = await createUpdateThreads({ threads: 2 });
const rng = createRng(1);
const policy = new ActorCritic({ observationSize: 4, nvec: [2], hiddenSizes: [8], maxBatch: 16 });
policy.init(rng.fork());
const envs = new SyncVectorEnv([() => createCartPole()]);
const collector = new RolloutCollector({ envs, policy, nSteps: 32, gamma: 0.99, gaeLambda: 0.95, seed: 0, rng: rng.fork(), sharedBuffer: true });
collector.collect();
const { buffer } = collector;
const options = { policy, buffer, rows: Int32Array.from({ length: 16 }, (_, i) => i), minibatch: createMinibatch(buffer, 16), clipRange: 0.2 };
const sizes = policy.parameters().map((p) => p.length);
for (let i = 0; i < workerData.cycles; i++) {
  const bound = threads.bind(policy, buffer, 16, createAdam({ sizes, learningRate: 1e-3, shared: true }));
  bound.ppoLoss(options);
  bound.step(0.5);
  bound.release();
}
await threads.close();
envs.close();
parentPort.postMessage(workerData.cycles);
