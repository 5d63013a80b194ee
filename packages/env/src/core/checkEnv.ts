import { type Rng, createRng, isKflowError } from '@kflow/orderbook';
import type { AnyEnv, EnvInfo } from './env';
import { envError } from './errors';
import { type AnySpace, type Space, countAllowed, describeValue } from './spaces';

/** Options of `checkEnv`. */
export interface CheckEnvOptions {
  /** Seed of the checked resets and of the random actions. Default 0. */
  readonly seed?: number;
  /** Steps per rollout (episodes are reset as they end). Default 300. */
  readonly steps?: number;
}

/** What `checkEnv` saw on an env that passed. */
export interface CheckEnvReport {
  readonly ok: true;
  readonly observationSpace: string;
  readonly actionSpace: string;
  /** Steps per rollout (each rollout ran twice to compare). */
  readonly steps: number;
  /** Episodes that ended within one rollout. */
  readonly episodes: number;
  readonly terminations: number;
  readonly truncations: number;
  /** Whether `info.actionMask` was present (and valid) on every reset and step. */
  readonly actionMasks: boolean;
  /** Whether a different seed gave a different first observation (a warning sign if false). */
  readonly seedSensitive: boolean;
  /** `'throws'` when a step after an ended episode threw `ENV_NEEDS_RESET`; `'not-reached'` if no episode ended. */
  readonly stepAfterEnd: 'throws' | 'not-reached';
  readonly meanReward: number;
}

interface Trace {
  readonly observations: number[][];
  readonly rewards: number[];
  readonly flags: string[];
  episodes: number;
  terminations: number;
  truncations: number;
  masks: boolean;
  stepAfterEnd: 'throws' | 'not-reached';
}

function fail(message: string, details?: Record<string, unknown>): never {
  throw envError('ENV_CHECK_FAILED', `checkEnv: ${message}`, details);
}

const SPACE_KINDS: readonly string[] = ['discrete', 'box', 'multiDiscrete'];

function checkSpace(space: unknown, name: string, seed: number): asserts space is AnySpace {
  if (typeof space !== 'object' || space === null) fail(`${name} is ${describeValue(space)}, expected a Space`);
  const s = space as Space;
  if (!SPACE_KINDS.includes(s.kind)) fail(`${name}.kind is ${String(s.kind)}, expected one of ${SPACE_KINDS.join(', ')}`);
  if (!Array.isArray(s.shape) || !s.shape.every((d) => Number.isInteger(d) && d >= 0)) {
    fail(`${name}.shape must be an array of non-negative integers, got ${String(s.shape)}`);
  }
  for (const m of ['sample', 'contains', 'seed', 'equals'] as const) {
    if (typeof s[m] !== 'function') fail(`${name}.${m} is not a function`);
  }
  const rng = createRng(seed);
  for (let i = 0; i < 10; i++) {
    const x = s.sample(rng);
    if (!s.contains(x)) fail(`${name}.sample() returned ${describeValue(x)}, which ${name}.contains() rejects`);
  }
}

/** Why `x` is not in `space`, for a precise failure message. */
function whyNotContained(space: AnySpace, x: unknown): string {
  if (space.kind === 'box') {
    const ctor = space.dtype === 'float64' ? Float64Array : Float32Array;
    if (!(x instanceof ctor)) return `expected ${ctor.name}(${space.size}), got ${describeValue(x)}`;
    if (x.length !== space.size) return `expected ${space.size} elements, got ${x.length}`;
    for (let i = 0; i < x.length; i++) {
      const v = x[i]!;
      if (!(v >= space.low[i]! && v <= space.high[i]!)) return `element ${i} = ${v} is outside [${space.low[i]}, ${space.high[i]}]`;
    }
  }
  return `${describeValue(x)} is not in ${space}`;
}

function copyValue(x: unknown): number[] {
  if (typeof x === 'number') return [x];
  if (ArrayBuffer.isView(x)) return Array.from(x as unknown as ArrayLike<number>);
  return fail(`cannot copy value ${describeValue(x)}`);
}

function checkInfo(info: unknown, where: string, actionSpace: AnySpace): boolean {
  if (typeof info !== 'object' || info === null || Array.isArray(info)) fail(`${where}: info must be an object, got ${describeValue(info)}`);
  const mask = (info as EnvInfo).actionMask;
  if (mask === undefined) return false;
  if (actionSpace.kind === 'box') fail(`${where}: info.actionMask is only defined for Discrete and MultiDiscrete action spaces, got ${actionSpace}`);
  try {
    if (actionSpace.kind === 'discrete') countAllowed(mask, actionSpace.n);
    else actionSpace.checkMask(mask);
  } catch (error) {
    fail(`${where}: invalid info.actionMask: ${(error as Error).message}`);
  }
  return true;
}

function pickAction(actionSpace: AnySpace, info: EnvInfo, rng: Rng): unknown {
  if (actionSpace.kind === 'box' || info.actionMask === undefined) return actionSpace.sample(rng);
  return actionSpace.sampleMasked(info.actionMask, rng);
}

function rollout(env: AnyEnv, seed: number, steps: number): Trace {
  const obsSpace = env.observationSpace as AnySpace;
  const actionSpace = env.actionSpace as AnySpace;
  const actionRng = createRng(seed ^ 0x5bd1e995);
  const trace: Trace = { observations: [], rewards: [], flags: [], episodes: 0, terminations: 0, truncations: 0, masks: true, stepAfterEnd: 'not-reached' };

  const doReset = (withSeed: boolean): EnvInfo => {
    const where = withSeed ? `reset({ seed: ${seed} })` : 'reset()';
    const result: unknown = withSeed ? env.reset({ seed }) : env.reset();
    if (typeof result !== 'object' || result === null || !('observation' in result) || !('info' in result)) {
      fail(`${where} must return { observation, info }, got ${describeValue(result)}`);
    }
    const { observation, info } = result as { observation: unknown; info: unknown };
    if (!obsSpace.contains(observation)) fail(`${where}: observation not in observationSpace: ${whyNotContained(obsSpace, observation)}`);
    trace.observations.push(copyValue(observation));
    trace.masks = checkInfo(info, where, actionSpace) && trace.masks;
    return info as EnvInfo;
  };

  let info = doReset(true);
  for (let t = 0; t < steps; t++) {
    const action = pickAction(actionSpace, info, actionRng);
    const where = `step ${t} (action ${describeValue(action)})`;
    const result: unknown = env.step(action);
    if (typeof result !== 'object' || result === null) fail(`${where} must return an object, got ${describeValue(result)}`);
    const { observation, reward, terminated, truncated } = result as Record<string, unknown>;
    if (!obsSpace.contains(observation)) fail(`${where}: observation not in observationSpace: ${whyNotContained(obsSpace, observation)}`);
    if (typeof reward !== 'number' || !Number.isFinite(reward)) fail(`${where}: reward must be a finite number, got ${describeValue(reward)}`);
    if (typeof terminated !== 'boolean') fail(`${where}: terminated must be a boolean, got ${describeValue(terminated)}`);
    if (typeof truncated !== 'boolean') fail(`${where}: truncated must be a boolean, got ${describeValue(truncated)}`);
    trace.masks = checkInfo((result as { info: unknown }).info, where, actionSpace) && trace.masks;
    trace.observations.push(copyValue(observation));
    trace.rewards.push(reward);
    trace.flags.push(`${terminated ? 'T' : '-'}${truncated ? 't' : '-'}`);
    info = (result as { info: EnvInfo }).info;
    if (!terminated && !truncated) continue;
    trace.episodes++;
    if (terminated) trace.terminations++;
    if (truncated) trace.truncations++;
    if (trace.stepAfterEnd === 'not-reached') {
      try {
        env.step(pickAction(actionSpace, info, actionRng));
      } catch (error) {
        if (!isKflowError(error, 'ENV_NEEDS_RESET')) {
          fail(`${where}: step after the episode ended must throw KflowError('ENV_NEEDS_RESET'), it threw ${String(error)}`);
        }
        trace.stepAfterEnd = 'throws';
      }
      if (trace.stepAfterEnd !== 'throws') fail(`${where}: step after the episode ended must throw KflowError('ENV_NEEDS_RESET'), it returned`);
    }
    info = doReset(false);
  }
  return trace;
}

/** A value just outside the action space: one past the last action, or NaN for boxes. */
function invalidAction(space: AnySpace): unknown {
  switch (space.kind) {
    case 'discrete':
      return space.start + space.n;
    case 'multiDiscrete':
      return Int32Array.from(space.nvec);
    case 'box':
      return space.allocate().fill(Number.NaN);
  }
}

function checkInvalidActionRejected(env: AnyEnv, seed: number): void {
  const action = invalidAction(env.actionSpace as AnySpace);
  env.reset({ seed });
  try {
    env.step(action);
  } catch (error) {
    if (isKflowError(error, 'INVALID_ACTION')) return;
    fail(`step(${describeValue(action)}) outside ${env.actionSpace} must throw KflowError('INVALID_ACTION'), it threw ${String(error)}`);
  }
  fail(`step(${describeValue(action)}) outside ${env.actionSpace} must throw KflowError('INVALID_ACTION'), it returned`);
}

function firstDifference(a: Trace, b: Trace): string | undefined {
  for (let i = 0; i < a.observations.length; i++) {
    const x = a.observations[i]!;
    const y = b.observations[i];
    if (y === undefined || x.length !== y.length || x.some((v, j) => !Object.is(v, y[j]))) {
      return `observation ${i} (counting resets) differs: [${x.join(', ')}] vs [${y?.join(', ')}]`;
    }
  }
  for (let i = 0; i < a.rewards.length; i++) {
    if (!Object.is(a.rewards[i], b.rewards[i])) return `reward of step ${i} differs: ${a.rewards[i]} vs ${b.rewards[i]}`;
    if (a.flags[i] !== b.flags[i]) return `terminated/truncated of step ${i} differ: ${a.flags[i]} vs ${b.flags[i]}`;
  }
  return undefined;
}

/**
 * Verifies that an env honours the `Env` contract, like Gymnasium's `check_env`. Run it in the tests of
 * every env. It checks:
 * - both spaces are kflow spaces with a valid shape whose seeded samples they contain;
 * - `reset`/`step` return the documented objects; every observation is inside `observationSpace`;
 *   rewards are finite numbers; `terminated`/`truncated` are booleans; `info` is an object; any
 *   `info.actionMask` is valid for a `Discrete`/`MultiDiscrete` action space (random actions respect it);
 * - seeding determinism: two rollouts of `steps` random actions from `reset({ seed })` (resetting
 *   without a seed when episodes end) produce bit-identical observations, rewards and flags;
 * - stepping after an episode ended throws `KflowError('ENV_NEEDS_RESET')`;
 * - an action outside `actionSpace` (one past the last action; NaN for a `Box`) throws
 *   `KflowError('INVALID_ACTION')`.
 * It leaves the env in the middle of an episode and does not close it. Wrappers with running
 * statistics (`NormalizeObservation`, `NormalizeReward`) fail the determinism check by design while
 * their statistics update: check the inner env, or set `updateStats = false` first.
 *
 * @throws KflowError('ENV_CHECK_FAILED') naming the first violation.
 * @example
 * const report = checkEnv(createCartPole(), { seed: 1 });
 * report.episodes; // episodes finished within 300 random steps
 */
export function checkEnv(env: AnyEnv, options: CheckEnvOptions = {}): CheckEnvReport {
  const seed = options.seed ?? 0;
  const steps = options.steps ?? 300;
  if (!Number.isInteger(steps) || steps < 1) throw envError('INVALID_ARGUMENT', `checkEnv steps must be a positive integer, got ${steps}`);
  if (typeof env !== 'object' || env === null) fail(`env is ${describeValue(env)}`);
  for (const m of ['reset', 'step', 'close'] as const) {
    if (typeof env[m] !== 'function') fail(`env.${m} is not a function`);
  }
  checkSpace(env.observationSpace, 'observationSpace', seed);
  checkSpace(env.actionSpace, 'actionSpace', seed);

  const first = rollout(env, seed, steps);
  const second = rollout(env, seed, steps);
  const difference = firstDifference(first, second);
  if (difference !== undefined) fail(`same seed ${seed}, same actions, different trajectories: ${difference}`);

  checkInvalidActionRejected(env, seed);
  const other = copyValue(env.reset({ seed: seed + 1 }).observation);
  const seedSensitive = other.some((v, i) => !Object.is(v, first.observations[0]![i]));
  return {
    ok: true,
    observationSpace: String(env.observationSpace),
    actionSpace: String(env.actionSpace),
    steps,
    episodes: first.episodes,
    terminations: first.terminations,
    truncations: first.truncations,
    actionMasks: first.masks,
    seedSensitive,
    stepAfterEnd: first.stepAfterEnd,
    meanReward: first.rewards.reduce((a, b) => a + b, 0) / steps,
  };
}
