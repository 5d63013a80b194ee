import { createCartPole, SyncVectorEnv } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import type { Benchmark } from './harness';

const CARTPOLE_STEPS = 2_000_000;

/** Random actions from a seeded rng on one CartPole-v1, resetting whenever an episode ends. */
function cartPoleWorkload() {
  const env = createCartPole();
  env.reset({ seed: 1 });
  const actions = new Uint8Array(CARTPOLE_STEPS);
  const rng = createRng(2);
  for (let i = 0; i < actions.length; i++) actions[i] = rng.int(2);
  return { env, actions };
}

/** Eight CartPoles behind `SyncVectorEnv` (next-step autoreset), random actions. */
function vectorWorkload() {
  const numEnvs = 8;
  const envs = new SyncVectorEnv(Array.from({ length: numEnvs }, () => () => createCartPole()));
  envs.reset({ seed: 1 });
  const rng = createRng(3);
  const batches = 4096;
  const actions = Array.from({ length: batches }, () => Int32Array.from({ length: numEnvs }, () => rng.int(2)));
  return { envs, actions, numEnvs };
}

/** Env benchmarks; the Kalshi env's benchmarks are appended to this array. */
export const envBenchmarks: readonly Benchmark[] = [
  {
    name: 'env.cartpole.stepsPerSec',
    description: 'CartPole-v1 step (single env, seeded random actions, reset when an episode ends)',
    better: 'higher',
    setup: cartPoleWorkload,
    run: (state) => {
      const { env, actions } = state as ReturnType<typeof cartPoleWorkload>;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < actions.length; i++) {
        const { terminated, truncated } = env.step(actions[i]!);
        if (terminated || truncated) env.reset();
      }
      return actions.length / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: 'env.cartpole.vector8.stepsPerSec',
    description: 'SyncVectorEnv of 8 CartPole-v1 with next-step autoreset: env steps per second (8 per batch step)',
    better: 'higher',
    baseline: 'env.cartpole.stepsPerSec',
    setup: vectorWorkload,
    run: (state) => {
      const { envs, actions, numEnvs } = state as ReturnType<typeof vectorWorkload>;
      const rounds = 60;
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < rounds; r++) for (const a of actions) envs.step(a);
      return (rounds * actions.length * numEnvs) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
];
