import { type Rng, createRng } from '@kflow/orderbook';
import { EMPTY_INFO, type Env, type EnvInfo, type EnvSpec, type ResetOptions, type ResetResult, type StepResult } from './env';
import { envError } from './errors';
import { Box, Discrete, describeValue } from './spaces';

// Gymnasium CartPole-v1 constants (gymnasium/envs/classic_control/cartpole.py).
const GRAVITY = 9.8;
const MASS_CART = 1.0;
const MASS_POLE = 0.1;
const TOTAL_MASS = MASS_POLE + MASS_CART;
/** Half the pole's length. */
const LENGTH = 0.5;
const POLE_MASS_LENGTH = MASS_POLE * LENGTH;
const FORCE_MAG = 10.0;
/** Seconds between state updates (explicit Euler). */
const TAU = 0.02;
/** The pole falls past ±12 degrees. */
export const CARTPOLE_THETA_THRESHOLD = (12 * 2 * Math.PI) / 360;
/** The cart leaves the track past ±2.4. */
export const CARTPOLE_X_THRESHOLD = 2.4;
const FLOAT32_MAX = 3.4028234663852886e38;

/** Options of `createCartPole`. */
export interface CartPoleOptions {
  /** Truncate after this many steps (CartPole-v1: 500). `Infinity` disables truncation. */
  readonly maxEpisodeSteps?: number;
  /** Seed of the reset generator until `reset({ seed })` replaces it. Default 0. */
  readonly seed?: number;
}

/**
 * Gymnasium's `CartPole-v1`, step for step: same constants, explicit Euler integration in float64,
 * observation `[x, xDot, theta, thetaDot]` as float32, initial state uniform in ±0.05, reward 1 on every
 * step including the terminating one, termination when |x| > 2.4 or |theta| > 12°, truncation at 500
 * steps (built in, no `TimeLimit` needed). Actions: 0 pushes the cart left, 1 right. From the same
 * state and actions the float64 state matches Gymnasium 1.3.0 bit for bit (tested over 200 steps).
 *
 * Differences from Gymnasium, by contract (see `Env`): stepping after the episode ended throws
 * `ENV_NEEDS_RESET` (Gymnasium warns and returns reward 0), and the random stream is kflow's `Rng`,
 * so a seed gives a different (but equally reproducible) initial state than in Python.
 */
export class CartPoleEnv implements Env<Box, Discrete, EnvInfo> {
  readonly observationSpace = new Box(
    [-2 * CARTPOLE_X_THRESHOLD, -FLOAT32_MAX, -2 * CARTPOLE_THETA_THRESHOLD, -FLOAT32_MAX],
    [2 * CARTPOLE_X_THRESHOLD, FLOAT32_MAX, 2 * CARTPOLE_THETA_THRESHOLD, FLOAT32_MAX],
  );
  readonly actionSpace = new Discrete(2);
  readonly spec: EnvSpec;
  readonly metadata = { renderModes: [] } as const;
  readonly maxEpisodeSteps: number;

  private rng: Rng;
  private readonly obs = new Float32Array(4);
  private x = 0;
  private xDot = 0;
  private theta = 0;
  private thetaDot = 0;
  private steps = 0;
  private needsReset = true;

  constructor(options: CartPoleOptions = {}) {
    const max = options.maxEpisodeSteps ?? 500;
    if (!(max === Infinity || (Number.isInteger(max) && max >= 1))) {
      throw envError('INVALID_ARGUMENT', `CartPole maxEpisodeSteps must be a positive integer or Infinity, got ${max}`);
    }
    this.maxEpisodeSteps = max;
    this.spec = max === Infinity ? { id: 'CartPole-v1', rewardThreshold: 475 } : { id: 'CartPole-v1', maxEpisodeSteps: max, rewardThreshold: 475 };
    this.rng = createRng(options.seed ?? 0);
  }

  /** The full float64 state `[x, xDot, theta, thetaDot]` (a copy), for tests and debugging. */
  get state(): readonly [number, number, number, number] {
    return [this.x, this.xDot, this.theta, this.thetaDot];
  }

  /** Sets the float64 state (e.g. to test dynamics from a known point); the episode continues from it. */
  setState(state: readonly [number, number, number, number]): void {
    [this.x, this.xDot, this.theta, this.thetaDot] = state;
    this.writeObservation();
  }

  /**
   * Starts an episode from a state uniform in `[low, high)` per element: ±0.05 by default, or
   * `options: { low, high }` as Gymnasium (wider bounds may start outside the observation space).
   */
  reset(options: ResetOptions = {}): ResetResult<Float32Array, EnvInfo> {
    const low = options.options?.['low'] ?? -0.05;
    const high = options.options?.['high'] ?? 0.05;
    if (typeof low !== 'number' || typeof high !== 'number' || !(low < high) || !Number.isFinite(high - low)) {
      throw envError('INVALID_ARGUMENT', `CartPole reset bounds must be finite numbers with low < high, got ${String(low)}, ${String(high)}`);
    }
    if (options.seed !== undefined) this.rng = createRng(options.seed);
    this.x = low + (high - low) * this.rng.next();
    this.xDot = low + (high - low) * this.rng.next();
    this.theta = low + (high - low) * this.rng.next();
    this.thetaDot = low + (high - low) * this.rng.next();
    this.steps = 0;
    this.needsReset = false;
    this.writeObservation();
    return { observation: this.obs, info: EMPTY_INFO };
  }

  /** Pushes the cart left (0) or right (1) for one 0.02 s step; reward 1 per step. */
  step(action: number): StepResult<Float32Array, EnvInfo> {
    if (this.needsReset) throw envError('ENV_NEEDS_RESET', 'CartPole.step called before reset or after the episode ended');
    if (action !== 0 && action !== 1) throw envError('INVALID_ACTION', `CartPole action must be 0 or 1, got ${describeValue(action)}`);
    const force = action === 1 ? FORCE_MAG : -FORCE_MAG;
    const cosTheta = Math.cos(this.theta);
    const sinTheta = Math.sin(this.theta);
    // Operations grouped exactly as in Gymnasium (x**2 squared first), so results match bit for bit.
    const temp = (force + POLE_MASS_LENGTH * (this.thetaDot * this.thetaDot) * sinTheta) / TOTAL_MASS;
    const thetaAcc =
      (GRAVITY * sinTheta - cosTheta * temp) / (LENGTH * (4.0 / 3.0 - (MASS_POLE * (cosTheta * cosTheta)) / TOTAL_MASS));
    const xAcc = temp - (POLE_MASS_LENGTH * thetaAcc * cosTheta) / TOTAL_MASS;
    // Explicit Euler, in Gymnasium's order: positions use the old velocities.
    this.x += TAU * this.xDot;
    this.xDot += TAU * xAcc;
    this.theta += TAU * this.thetaDot;
    this.thetaDot += TAU * thetaAcc;
    this.steps++;
    const terminated =
      this.x < -CARTPOLE_X_THRESHOLD ||
      this.x > CARTPOLE_X_THRESHOLD ||
      this.theta < -CARTPOLE_THETA_THRESHOLD ||
      this.theta > CARTPOLE_THETA_THRESHOLD;
    const truncated = this.steps >= this.maxEpisodeSteps;
    this.needsReset = terminated || truncated;
    this.writeObservation();
    return { observation: this.obs, reward: 1, terminated, truncated, info: EMPTY_INFO };
  }

  close(): void {}

  private writeObservation(): void {
    this.obs[0] = this.x;
    this.obs[1] = this.xDot;
    this.obs[2] = this.theta;
    this.obs[3] = this.thetaDot;
  }
}

/**
 * Creates Gymnasium's `CartPole-v1` (see `CartPoleEnv`): the reference env for algorithm tests and
 * speed comparisons.
 *
 * @example
 * const env = createCartPole();
 * const { observation } = env.reset({ seed: 42 }); // Float32Array(4), each in ±0.05
 * const { reward, terminated, truncated } = env.step(1);
 */
export function createCartPole(options: CartPoleOptions = {}): CartPoleEnv {
  return new CartPoleEnv(options);
}
