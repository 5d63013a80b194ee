// Test helpers of @kflow/env (not exported from the package): one module for every test file.
import { type Rng, isKflowError } from '@kflow/orderbook';
import { expect } from 'vitest';
import { type Env, type EnvInfo, type ResetOptions, type ResetResult, type StepResult } from './env';
import { envError } from './errors';
import { Box, Discrete } from './spaces';

/** Asserts that `fn` throws a KflowError with `code`. */
export function throwsCode(fn: () => unknown, code: string): void {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  expect(isKflowError(caught, code), `expected KflowError ${code}, got ${String(caught)}`).toBe(true);
}

/** A uniformly random action among those `mask` allows. */
export function randomMasked(mask: Uint8Array, rng: Rng): number {
  const allowed: number[] = [];
  mask.forEach((m, i) => m && allowed.push(i));
  return allowed[rng.int(allowed.length)]!;
}

/** A tiny env whose every output is predictable. */
export interface ScriptedInfo extends EnvInfo {
  readonly t: number;
}

export interface ScriptedEnvOptions {
  /** Steps per episode. */
  readonly length: number;
  /** How episodes end. Default 'terminated'. */
  readonly endWith?: 'terminated' | 'truncated';
  /** Send `info.actionMask` forbidding action `t % 3` at time `t`. */
  readonly masks?: boolean;
}

/**
 * Observation `[t, seedBase + episode]` in a Box(float32, [2]); actions Discrete(3); reward
 * `action + t / 10` where `t` is the step index after the step; episodes end after `length` steps.
 */
export class ScriptedEnv implements Env<Box, Discrete, ScriptedInfo> {
  readonly observationSpace = new Box(-1e6, 1e6, [2]);
  readonly actionSpace = new Discrete(3);
  readonly actions: number[] = [];
  resets = 0;
  closed = 0;
  private readonly obs = new Float32Array(2);
  private readonly mask = new Uint8Array(3);
  private base = 0;
  private episode = 0;
  private t = 0;
  private done = true;

  constructor(private readonly options: ScriptedEnvOptions) {}

  reset(options: ResetOptions = {}): ResetResult<Float32Array, ScriptedInfo> {
    if (options.seed !== undefined) {
      this.base = options.seed * 1000;
      this.episode = 0;
    }
    this.resets++;
    this.episode++;
    this.t = 0;
    this.done = false;
    return { observation: this.observe(), info: this.info() };
  }

  step(action: number): StepResult<Float32Array, ScriptedInfo> {
    if (this.done) throw envError('ENV_NEEDS_RESET', 'scripted env needs a reset');
    if (!this.actionSpace.contains(action)) throw envError('INVALID_ACTION', `bad action ${action}`);
    this.actions.push(action);
    this.t++;
    this.done = this.t >= this.options.length;
    const truncated = this.done && this.options.endWith === 'truncated';
    return { observation: this.observe(), reward: action + this.t / 10, terminated: this.done && !truncated, truncated, info: this.info() };
  }

  close(): void {
    this.closed++;
  }

  private observe(): Float32Array {
    this.obs[0] = this.t;
    this.obs[1] = this.base + this.episode;
    return this.obs;
  }

  private info(): ScriptedInfo {
    if (!this.options.masks) return { t: this.t };
    this.mask.fill(1);
    this.mask[this.t % 3] = 0;
    return { t: this.t, actionMask: this.mask };
  }
}
