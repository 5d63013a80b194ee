import type { Env, EnvInfo, ResetOptions, ResetResult, StepResult } from './env';
import { envError } from './errors';
import { countAllowed, type Discrete, type Space, type SpaceValue } from './spaces';
import { Wrapper } from './wrapper';

/** Options of `EnforceActionMask`. */
export interface EnforceActionMaskOptions {
  /**
   * What to do with an action the current mask forbids: without a fallback, throw
   * `KflowError('INVALID_ACTION')` (a bug in the agent); with one, step with this action instead (e.g.
   * HOLD) and report `info.maskedAction` with the action that was refused.
   */
  readonly fallbackAction?: number;
}

/**
 * Action-mask support for `Discrete` action spaces: validates every `info.actionMask` the env returns
 * (length `n`, values 0/1, at least one legal action; else `INVALID_ACTION_MASK`) and refuses actions
 * the current mask forbids. Envs without masks pass through (every action is legal).
 *
 * @example
 * const env = new EnforceActionMask(createMyEnv(), { fallbackAction: 0 });
 * const { info } = env.reset({ seed: 1 });
 * const action = env.actionSpace.sampleMasked(info.actionMask ?? allActions, rng);
 */
export class EnforceActionMask<O extends Space, I extends EnvInfo> extends Wrapper<O, Discrete, I> {
  private readonly fallbackAction: number | undefined;
  private mask: Uint8Array | undefined;

  constructor(env: Env<O, Discrete, I>, options: EnforceActionMaskOptions = {}) {
    super(env);
    if (options.fallbackAction !== undefined && !env.actionSpace.contains(options.fallbackAction)) {
      throw envError('INVALID_ARGUMENT', `fallbackAction ${options.fallbackAction} is not in ${env.actionSpace}`);
    }
    this.fallbackAction = options.fallbackAction;
  }

  /** The mask of the current state (`undefined` when the env gives none). */
  get currentMask(): Uint8Array | undefined {
    return this.mask;
  }

  /** Whether `action` is legal in the current state. */
  isAllowed(action: number): boolean {
    const space = this.env.actionSpace;
    if (!space.contains(action)) return false;
    return this.mask === undefined || this.mask[action - space.start] === 1;
  }

  override reset(options?: ResetOptions): ResetResult<SpaceValue<O>, I> {
    const result = this.env.reset(options);
    this.mask = this.validate(result.info);
    return result;
  }

  override step(action: number): StepResult<SpaceValue<O>, I> {
    if (this.isAllowed(action)) return this.record(this.env.step(action));
    if (this.fallbackAction === undefined || !this.isAllowed(this.fallbackAction)) {
      throw envError('INVALID_ACTION', `action ${action} is not allowed by the current action mask`, { action });
    }
    const result = this.record(this.env.step(this.fallbackAction));
    return { ...result, info: { ...result.info, maskedAction: action } };
  }

  private record(result: StepResult<SpaceValue<O>, I>): StepResult<SpaceValue<O>, I> {
    this.mask = this.validate(result.info);
    return result;
  }

  private validate(info: I): Uint8Array | undefined {
    if (info.actionMask !== undefined) countAllowed(info.actionMask, this.env.actionSpace.n);
    return info.actionMask;
  }
}
