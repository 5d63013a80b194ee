import {
  ActorCritic,
  type DiscreteVectorEnv,
  KALSHI_PPO,
  PPO_DEFAULTS,
  PPO_ZOO_CARTPOLE,
  type PpoOptions,
  RolloutCollector,
  type UpdateThreads,
  createUpdateThreads,
  trainPpo,
} from '@kflow/agents';
import { type Box, type Discrete, type VectorEnv, SyncVectorEnv, createAsyncVectorEnv, createCartPole, createKalshiEnv, createMarketPool, createSyntheticSession, kalshiWorkerEnv } from '@kflow/env';
import { type SessionData, createRng } from '@kflow/orderbook';
import type { Benchmark } from './harness';

/**
 * Real PPO training (rollouts and updates, default backend); returns env transitions per second. SB3's
 * count (same-step autoreset) has no reset-only steps, ours (Gymnasium next-step autoreset) has one per
 * finished episode: they are subtracted so the figure compares like with like.
 */
function ppoStepsPerSecond(envs: DiscreteVectorEnv, totalTimesteps: number, preset: Partial<PpoOptions>): number {
  const t0 = process.hrtime.bigint();
  const result = trainPpo({ ...preset, envs, totalTimesteps, seed: 0 });
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return (result.timesteps - result.episodes) / seconds;
}

function cartPolePpo(nEnvs: number, totalTimesteps: number, preset: Partial<PpoOptions>): number {
  const envs = new SyncVectorEnv(Array.from({ length: nEnvs }, () => () => createCartPole()));
  const sps = ppoStepsPerSecond(envs, totalTimesteps, preset);
  envs.close();
  return sps;
}

/** The fixed session set of the Kalshi training benches: 3 synthetic recordings, 6 markets × 20,000 events, settled. */
function kalshiSessions(): SessionData[] {
  return [1, 2, 3].map((seed) => createSyntheticSession({ seed, markets: 2, eventsPerMarket: 20_000, settle: true }));
}

/** KALSHI_PPO's envs on the bench sessions: in this thread (`workers` 1) or in worker threads. */
async function kalshiEnvs(workers: number): Promise<VectorEnv<Box, Discrete>> {
  const sessions = kalshiSessions();
  if (workers > 1) return createAsyncVectorEnv<Box, Discrete>({ env: kalshiWorkerEnv({ sessions, ...KALSHI_PPO.env }), numEnvs: KALSHI_PPO.nEnvs, workers });
  const pool = createMarketPool(sessions);
  return new SyncVectorEnv(Array.from({ length: KALSHI_PPO.nEnvs }, () => () => createKalshiEnv({ sessions: pool, ...KALSHI_PPO.env })));
}

/** KALSHI_PPO's hyperparameters with PPO's defaults filled in. */
const KALSHI_HP = { ...PPO_DEFAULTS, ...KALSHI_PPO.ppo };

/** Env steps per run of the Kalshi training benches: 8 rollouts of KALSHI_PPO (4 envs × 512 steps). */
const KALSHI_BENCH_STEPS = 8 * KALSHI_PPO.nEnvs * KALSHI_HP.nSteps;

/** PPO on the Kalshi env with KALSHI_PPO's hyperparameters and network (the update split over `updateThreads`). */
function kalshiPpo(envs: DiscreteVectorEnv, updateThreads?: UpdateThreads): number {
  return ppoStepsPerSecond(envs, KALSHI_BENCH_STEPS, { ...KALSHI_PPO.ppo, policy: KALSHI_PPO.policy, ...(updateThreads === undefined ? {} : { updateThreads }) });
}

interface ThreadedKalshi {
  readonly envs: VectorEnv<Box, Discrete>;
  readonly updateThreads: UpdateThreads;
}

/** `kalshiEnvs(envWorkers)` and update threads. */
async function threadedKalshi(envWorkers: number, threads: number): Promise<ThreadedKalshi> {
  return { envs: await kalshiEnvs(envWorkers), updateThreads: await createUpdateThreads({ threads }) };
}

async function closeThreadedKalshi(state: unknown): Promise<void> {
  const { envs, updateThreads } = state as ThreadedKalshi;
  envs.close();
  await updateThreads.close();
}

/**
 * Rollout collection alone (policy forward passes, env steps, GAE; no update) with KALSHI_PPO's network:
 * env transitions per second, counted as `ppoStepsPerSecond` counts them.
 */
function kalshiRollouts(envs: VectorEnv<Box, Discrete>): number {
  const { hiddenSizes } = KALSHI_PPO.policy;
  const policy = new ActorCritic({ observationSize: envs.observationSize, nvec: [envs.singleActionSpace.n], maxBatch: envs.numEnvs, ...(hiddenSizes === undefined ? {} : { hiddenSizes }) });
  policy.init(createRng(0));
  const { nSteps, gamma, gaeLambda } = KALSHI_HP;
  const collector = new RolloutCollector({ envs, policy, nSteps, gamma, gaeLambda, seed: 0, rng: createRng(1) });
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < 8; i++) collector.collect();
  return (collector.timesteps - collector.episodes) / (Number(process.hrtime.bigint() - t0) / 1e9);
}

const closeEnvs = (state: unknown) => (state as VectorEnv<Box, Discrete>).close();

export const agentsBenchmarks: readonly Benchmark[] = [
  {
    name: 'ppo.cartpole.default.sps',
    description: 'PPO training steps/s on CartPole-v1, SB3 defaults (1 env, n_steps 2048, batch 64, 10 epochs), 20,480 steps',
    better: 'higher',
    target: 2600,
    warmupRuns: 1,
    runs: 3,
    run: () => cartPolePpo(1, 20_480, {}),
  },
  {
    name: 'ppo.cartpole.zoo.sps',
    description: 'PPO training steps/s on CartPole-v1, rl-zoo settings (8 envs, n_steps 32, batch 256, 20 epochs), 25,600 steps',
    better: 'higher',
    target: 5400,
    warmupRuns: 1,
    runs: 3,
    run: () => cartPolePpo(8, 25_600, PPO_ZOO_CARTPOLE),
  },
  {
    name: 'ppo.kalshi.sps',
    description: `PPO training steps/s on the Kalshi env, KALSHI_PPO (4 envs × 512 steps, batch 256, 10 epochs, 64×64), envs stepped in the main thread, ${KALSHI_BENCH_STEPS} steps on 3 synthetic sessions`,
    better: 'higher',
    warmupRuns: 1,
    runs: 5,
    setup: () => kalshiEnvs(1),
    run: (state) => kalshiPpo(state as DiscreteVectorEnv),
    teardown: closeEnvs,
  },
  {
    name: 'ppo.kalshi.spsWorkers2',
    description: 'ppo.kalshi.sps on 2 threads: each minibatch split over 2 update threads (createUpdateThreads), envs stepped in the main thread',
    better: 'higher',
    baseline: 'ppo.kalshi.sps',
    baselineTarget: 1.6,
    warmupRuns: 1,
    runs: 5,
    setup: () => threadedKalshi(1, 2),
    run: (state) => kalshiPpo((state as ThreadedKalshi).envs, (state as ThreadedKalshi).updateThreads),
    teardown: closeThreadedKalshi,
  },
  {
    name: 'ppo.kalshi.spsEnvWorkers2',
    description: 'ppo.kalshi.sps with the envs in an AsyncVectorEnv of 2 worker threads (2 envs each) and the update split over 2 threads',
    better: 'higher',
    baseline: 'ppo.kalshi.sps',
    warmupRuns: 1,
    runs: 5,
    setup: () => threadedKalshi(2, 2),
    run: (state) => kalshiPpo((state as ThreadedKalshi).envs, (state as ThreadedKalshi).updateThreads),
    teardown: closeThreadedKalshi,
  },
  {
    name: 'ppo.kalshi.rolloutSps',
    description: "The rollout part of ppo.kalshi.sps alone (KALSHI_PPO's network and 4 envs, 8 rollouts of 512 steps, no update): env steps/s, envs in the main thread",
    better: 'higher',
    warmupRuns: 1,
    runs: 5,
    setup: () => kalshiEnvs(1),
    run: (state) => kalshiRollouts(state as VectorEnv<Box, Discrete>),
    teardown: closeEnvs,
  },
  {
    name: 'ppo.kalshi.rolloutSpsWorkers2',
    description: 'ppo.kalshi.rolloutSps with the envs in an AsyncVectorEnv of 2 worker threads',
    better: 'higher',
    baseline: 'ppo.kalshi.rolloutSps',
    warmupRuns: 1,
    runs: 5,
    setup: () => kalshiEnvs(2),
    run: (state) => kalshiRollouts(state as VectorEnv<Box, Discrete>),
    teardown: closeEnvs,
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
