import type { SessionData } from '@kflow/orderbook';
import type { WorkerEnvSetup, WorkerEnvSpec } from '../core/asyncVectorEnv';
import type { Box, Discrete } from '../core/spaces';
import { type KalshiEnvInfo, type KalshiEnvOptions, createKalshiEnv } from './kalshiEnv';
import { createMarketPool } from './marketPool';

/**
 * Options of {@link kalshiWorkerEnv}: those of `createKalshiEnv`, with recorded sessions (not a prepared
 * pool: each worker builds its own from them) and the default uniform sampler (a sampler holds functions,
 * which cannot be sent to a thread; write your own {@link WorkerEnvSetup} to use another).
 */
export interface KalshiWorkerEnvOptions extends Omit<KalshiEnvOptions, 'sessions' | 'sampler'> {
  readonly sessions: readonly SessionData[];
}

/**
 * The worker side of {@link kalshiWorkerEnv}: builds the market pool of `options.sessions` once per worker
 * and Kalshi sub-envs over it. Exported so that the worker threads of `createAsyncVectorEnv` can import it
 * by name.
 */
export const setupKalshiWorkerEnvs: WorkerEnvSetup<KalshiWorkerEnvOptions, Box, Discrete, KalshiEnvInfo> = (options) => {
  const { sessions, ...envOptions } = options;
  const pool = createMarketPool(sessions, options.checkpointInterval === undefined ? {} : { checkpointInterval: options.checkpointInterval });
  return () => createKalshiEnv({ ...envOptions, sessions: pool });
};

/**
 * The {@link WorkerEnvSpec} of Kalshi sub-envs, for `createAsyncVectorEnv`. The sessions are copied to
 * each worker once, when it starts; with the same sessions and options, the sub-envs are those
 * `createKalshiEnv({ sessions: createMarketPool(sessions), ...options })` builds in this thread.
 *
 * @example
 * const envs = await createAsyncVectorEnv<Box, Discrete, KalshiEnvInfo>({
 *   env: kalshiWorkerEnv({ sessions, ...KALSHI_PPO.env }),
 *   numEnvs: 4,
 *   workers: 2,
 * });
 */
export function kalshiWorkerEnv(options: KalshiWorkerEnvOptions): WorkerEnvSpec<KalshiWorkerEnvOptions> {
  return { module: '@kflow/env', exportName: 'setupKalshiWorkerEnvs', options };
}
