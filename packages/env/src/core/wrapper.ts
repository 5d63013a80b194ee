import type { AnyEnv, Env, EnvInfo, EnvSpec, ResetOptions, ResetResult, StepResult } from './env';
import type { Space, SpaceValue } from './spaces';

/**
 * Base class of wrappers: forwards everything to the wrapped env; subclasses override what they change.
 * Wrappers are envs, so they stack: `new RecordEpisodeStatistics(new TimeLimit(env, { maxEpisodeSteps: 200 }))`.
 */
export abstract class Wrapper<O extends Space, A extends Space, I extends EnvInfo> implements Env<O, A, I> {
  /** The wrapped env. */
  readonly env: Env<O, A, I>;

  constructor(env: Env<O, A, I>) {
    this.env = env;
  }

  /** The wrapped env's observation space. */
  get observationSpace(): O {
    return this.env.observationSpace;
  }

  /** The wrapped env's action space. */
  get actionSpace(): A {
    return this.env.actionSpace;
  }

  /** The wrapped env's spec. */
  get spec(): EnvSpec | undefined {
    return this.env.spec;
  }

  /** The wrapped env's metadata. */
  get metadata(): Readonly<Record<string, unknown>> | undefined {
    return this.env.metadata;
  }

  /** The innermost env under all wrappers. */
  get unwrapped(): AnyEnv {
    return this.env instanceof Wrapper ? (this.env.unwrapped as AnyEnv) : (this.env as AnyEnv);
  }

  /** Resets the wrapped env. */
  reset(options?: ResetOptions): ResetResult<SpaceValue<O>, I> {
    return this.env.reset(options);
  }

  /** Steps the wrapped env. */
  step(action: SpaceValue<A>): StepResult<SpaceValue<O>, I> {
    return this.env.step(action);
  }

  close(): void {
    this.env.close();
  }
}
