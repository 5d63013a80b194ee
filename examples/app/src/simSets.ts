import { closeSync, openSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { KALSHI_PPO, type KalshiEvaluation, type Policy, createKalshiOracle, evaluateKalshi } from '@kflow/agents';
import { type MarketAgnosticKalshiEnv, type MarketPool, createKalshiEnv, createMarketPool } from '@kflow/env';
import { type SessionData, sessionDataFromCaptureSync } from '@kflow/orderbook';
import { type LatentIndex, type SimConfig, createLatentIndex, generateCapture } from '@kflow/sim';

/** Simulated sessions held in memory, with their latent paths (for the oracle) and, if written, their capture files. */
export interface SimSet {
  readonly sessions: readonly SessionData[];
  /** The sessions' markets, prepared once for every env that evaluates on them. */
  readonly pool: MarketPool;
  readonly latents: LatentIndex;
  /** Capture files (`kflow sim --out` format), when a directory was given. */
  readonly files: readonly string[];
}

/** The capture file name of a simulated session. */
function captureName(c: SimConfig): string {
  return `${c.preset}-${c.tickStructure}-edge${c.edge}${c.fractionalSizes ? '-frac' : ''}-seed${c.seed}.jsonl`;
}

/**
 * Simulates one session per config and loads each as the env loads a capture; with `dir`, also writes each
 * capture there (one raw frame per line, as `kflow sim --out` does) for `kflow train --data`.
 *
 * @example
 * const set = simulateSet([resolveSimConfig('informed', { seed: 101 })]);
 */
export function simulateSet(configs: readonly SimConfig[], dir?: string): SimSet {
  const latents = createLatentIndex();
  const files: string[] = [];
  const sessions = configs.map((config) => {
    const lines: string[] = [];
    generateCapture(config, { onFrame: (line) => lines.push(line), onOracleRecord: latents.add });
    const name = captureName(config);
    if (dir !== undefined) {
      const path = join(dir, name);
      const fd = openSync(path, 'w');
      try {
        writeSync(fd, `${lines.join('\n')}\n`);
      } finally {
        closeSync(fd);
      }
      files.push(path);
    }
    return sessionDataFromCaptureSync(lines, { id: name });
  });
  return { sessions, pool: createMarketPool(sessions), latents, files };
}

/** A Kalshi env over the set's markets, set up as `kflow eval --data` sets it up (the recommended `KALSHI_PPO` env). */
export function evalEnv(set: SimSet): MarketAgnosticKalshiEnv {
  return createKalshiEnv({ sessions: set.pool, ...KALSHI_PPO.env });
}

/** Runs `policy` on the set as `kflow eval` does: `episodes` episodes, episode i reset with `seed + i`. */
export function evaluateOnSet(policy: Policy, set: SimSet, episodes: number, seed: number): KalshiEvaluation {
  return evaluateKalshi(policy, evalEnv(set), episodes, { seed });
}

/** The oracle baseline (it reads the latent) on the same episodes and env as {@link evaluateOnSet}. */
export function evaluateOracleOnSet(set: SimSet, episodes: number, seed: number): KalshiEvaluation {
  const oracle = createKalshiOracle({ env: evalEnv(set), latentAt: set.latents.latentAt });
  return evaluateKalshi(oracle.policy, oracle.env, episodes, { seed });
}
