import { describe, expect, it } from 'vitest';
import { runCli } from '../cli.testing';
import { LEARNING_CHECK_SIZES } from './learningCheck';
import { ROBUSTNESS_SEED_BASE, registerRobustness, robustnessSize } from './robustness';

describe('kflow robustness sizes', () => {
  it('moves the held-out seeds past the validation seeds and scales the episodes with --held-out', () => {
    const full = LEARNING_CHECK_SIZES.full;
    expect(robustnessSize(full)).toMatchObject({ heldOutSeeds: Array.from({ length: 12 }, (_, i) => ROBUSTNESS_SEED_BASE + i), episodes: 400, trainSeeds: full.trainSeeds });
    const wide = robustnessSize(full, 48);
    expect(wide.heldOutSeeds).toEqual(Array.from({ length: 48 }, (_, i) => 201 + i));
    expect(wide.episodes).toBe(1600);
    expect(robustnessSize(LEARNING_CHECK_SIZES.ci, 8)).toMatchObject({ heldOutSeeds: [201, 202, 203, 204, 205, 206, 207, 208], episodes: 200, timesteps: LEARNING_CHECK_SIZES.ci.timesteps });
  });

  it('refuses a --held-out that is not a whole number of sessions, before training anything', async () => {
    for (const bad of ['0', '2.5', 'x']) {
      await expect(runCli([registerRobustness], ['robustness', '--held-out', bad, '--json'])).rejects.toThrow(`--held-out must be a whole number ≥ 1, got "${bad}"`);
    }
  });
});
