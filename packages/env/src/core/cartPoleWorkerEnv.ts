import type { WorkerEnvSetup, WorkerEnvSpec } from './asyncVectorEnv';
import { type CartPoleOptions, createCartPole } from './cartPole';

/**
 * The worker side of {@link cartPoleWorkerEnv}: CartPole-v1 sub-envs with `options`. Exported so that the
 * worker threads of `createAsyncVectorEnv` can import it by name.
 */
export const setupCartPoleWorkerEnvs: WorkerEnvSetup<CartPoleOptions> = (options) => () => createCartPole(options);

/**
 * The {@link WorkerEnvSpec} of CartPole-v1 sub-envs, for `createAsyncVectorEnv`.
 *
 * @example
 * const envs = await createAsyncVectorEnv({ env: cartPoleWorkerEnv(), numEnvs: 8, workers: 2 });
 */
export function cartPoleWorkerEnv(options: CartPoleOptions = {}): WorkerEnvSpec<CartPoleOptions> {
  return { module: '@kflow/env', exportName: 'setupCartPoleWorkerEnvs', options };
}
