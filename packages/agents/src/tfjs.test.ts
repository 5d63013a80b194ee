import { createRng, isKflowError } from '@kflow/orderbook';
import { describe, expect, it, vi } from 'vitest';
import { ActorCritic } from './actorCritic';
import { createCheckpoint, loadPolicy } from './checkpoint';
import type { TrainResult } from './training';
import { createTfjsPolicy } from './tfjs';

function checkpointOf(ac: ActorCritic) {
  const result: TrainResult<object> = {
    algorithm: 'ppo',
    policy: ac,
    hyperparameters: {},
    seed: 0,
    timesteps: 0,
    episodes: 0,
    updates: 0,
    meanEpisodicReturn: Number.NaN,
    seconds: 0,
  };
  return createCheckpoint(result);
}

describe('@kflow/agents/tfjs', () => {
  it('acts like the TypeScript policy', { timeout: 30_000 }, async () => {
    const ac = new ActorCritic({ observationSize: 4, nvec: [3] });
    ac.init(createRng(0));
    // Spread the head so actions depend on the observation.
    for (const w of [ac.policyNet.layerWeights(2)]) for (let i = 0; i < w.length; i++) w[i] = w[i]! * 100;
    const checkpoint = checkpointOf(ac);
    const reference = loadPolicy(checkpoint);
    const policy = await createTfjsPolicy(checkpoint, { observationSize: 4 });
    const rng = createRng(1);
    const seen = new Set<number>();
    for (let i = 0; i < 100; i++) {
      const obs = Float32Array.from({ length: 4 }, () => rng.normal());
      const a = policy.act(obs);
      seen.add(a);
      expect(a).toBe(reference.act(obs));
    }
    expect(seen.size).toBeGreaterThan(1);
    expect(policy.act(new Float32Array(4), Uint8Array.of(0, 0, 1))).toBe(2);
    policy.dispose();
  });

  it('says what to install when @tensorflow/tfjs is missing', async () => {
    vi.doMock('@tensorflow/tfjs', () => {
      throw new Error('Cannot find package @tensorflow/tfjs');
    });
    const ac = new ActorCritic({ observationSize: 2, nvec: [2] });
    ac.init(createRng(0));
    await expect(createTfjsPolicy(checkpointOf(ac))).rejects.toSatisfy(
      (e: unknown) => isKflowError(e, 'DEPENDENCY_NOT_INSTALLED') && /install @tensorflow\/tfjs/.test((e as Error).message),
    );
    vi.doUnmock('@tensorflow/tfjs');
  });
});
