import { ActorCritic, PPO_ZOO_CARTPOLE, type PpoOptions, trainPpo } from '@kflow/agents';
import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import type { Benchmark } from './harness';

/**
 * Real PPO training on CartPole-v1 (rollouts and updates, default backend); returns env transitions per
 * second. SB3's count (same-step autoreset) has no reset-only steps, ours (Gymnasium next-step autoreset)
 * has one per finished episode: they are subtracted so the figure compares like with like.
 */
function ppoStepsPerSecond(nEnvs: number, totalTimesteps: number, preset: Partial<PpoOptions>): number {
  const envs = new SyncVectorEnv(Array.from({ length: nEnvs }, () => () => createCartPole()));
  const t0 = process.hrtime.bigint();
  const result = trainPpo({ ...preset, envs, totalTimesteps, seed: 0 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  envs.close();
  return (result.timesteps - result.episodes) / seconds;
}

export const agentsBenchmarks: readonly Benchmark[] = [
  {
    name: 'ppo.cartpole.default.sps',
    description: 'PPO training steps/s on CartPole-v1, SB3 defaults (1 env, n_steps 2048, batch 64, 10 epochs), 20,480 steps',
    better: 'higher',
    target: 2600,
    warmupRuns: 1,
    runs: 3,
    run: () => ppoStepsPerSecond(1, 20_480, {}),
  },
  {
    name: 'ppo.cartpole.zoo.sps',
    description: 'PPO training steps/s on CartPole-v1, rl-zoo settings (8 envs, n_steps 32, batch 256, 20 epochs), 25,600 steps',
    better: 'higher',
    target: 5400,
    warmupRuns: 1,
    runs: 3,
    run: () => ppoStepsPerSecond(8, 25_600, PPO_ZOO_CARTPOLE),
  },
  {
    name: 'agents.policy.actMicros',
    description: 'Deterministic act() of a 4→64→64→2 tanh policy on one observation, microseconds per call',
    better: 'lower',
    target: 20,
    setup: () => {
      const policy = new ActorCritic({ observationSize: 4, nvec: [2] });
      policy.init(createRng(0));
      const rng = createRng(1);
      const observations = Array.from({ length: 256 }, () => Float32Array.from({ length: 4 }, () => rng.normal()));
      return { policy, observations };
    },
    run: (state) => {
      const { policy, observations } = state as { policy: ActorCritic; observations: Float32Array[] };
      const n = 100_000;
      let sink = 0;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) sink += policy.act(observations[i & 255]!);
      const micros = Number(process.hrtime.bigint() - t0) / 1e3 / n;
      if (sink < 0) throw new Error('unreachable');
      return micros;
    },
  },
];
