/** Flags shared by commands, checked: a value that is not what the flag takes is refused with the flag's name. */
import { resolve } from 'node:path';
import { type SimConfig, type SimConfigOverrides, type SpeedFactor, resolveSimConfig } from '@kflow/sim';

// cac hands over numeric-looking values as numbers, whatever the option's declared type: both are taken.

/** A whole number ≥ `min` (`--timesteps 0`, `--seed 1.5` and `--sim-markets x` are refused). */
export function wholeNumber(value: string | number, name: string, min: number): number {
  const n = Number(value);
  if (String(value).trim() === '' || !Number.isSafeInteger(n) || n < min) throw new Error(`--${name} must be a whole number ≥ ${min}, got "${value}"`);
  return n;
}

/** A number > 0 (minutes, seconds, dollars, speed factors). */
export function positiveNumber(value: string | number, name: string): number {
  const n = Number(value);
  if (String(value).trim() === '' || !Number.isFinite(n) || n <= 0) throw new Error(`--${name} must be a number > 0, got "${value}"`);
  return n;
}

/** `--edge`: the simulator's edge knob, a number in [0, 1] (0: nothing observable predicts the next mid move). */
export function edgeFlag(value: string | number): number {
  const x = Number(value);
  if (String(value).trim() === '' || !(x >= 0 && x <= 1)) throw new Error(`--edge must be a number in [0, 1], got "${value}"`);
  return x;
}

/** Applies `parse` to a flag that may be absent. */
export function optional<T>(value: string | undefined, parse: (value: string) => T): T | undefined {
  return value === undefined ? undefined : parse(value);
}

/** `--speed`: `max`, or a factor > 0 (1 = real time). */
export function speedFactor(value: string | number): SpeedFactor {
  return value === 'max' ? 'max' : positiveNumber(value, 'speed');
}

/** The simulator flags every command that runs it shares. */
export interface SimFlags {
  preset: string;
  seed: string;
  simMarkets: string;
  simMinutes: string;
}

/** The simulator config of `--preset --seed --sim-markets --sim-minutes`. */
export function simConfigOf(o: SimFlags, extra: Omit<SimConfigOverrides, 'seed' | 'markets' | 'durationMs'> = {}): SimConfig {
  return resolveSimConfig(o.preset, {
    seed: wholeNumber(o.seed, 'seed', 0),
    markets: wholeNumber(o.simMarkets, 'sim-markets', 1),
    durationMs: Math.round(positiveNumber(o.simMinutes, 'sim-minutes') * 60_000),
    ...extra,
  });
}

/**
 * A path as the user typed it: `pnpm kflow` runs in the repository root, so relative paths resolve
 * against the directory the user ran pnpm from (`INIT_CWD`), else the current directory.
 */
export function userPath(path: string): string {
  return resolve(process.env.INIT_CWD ?? process.cwd(), path);
}
