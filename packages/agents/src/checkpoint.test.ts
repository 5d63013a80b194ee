import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { createRng, isKflowError } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { ActorCritic } from './actorCritic';
import { createCheckpoint, loadPolicy } from './checkpoint';
import { readCheckpoint, writeCheckpoint } from './checkpointFiles';
import { trainPpo } from './ppo';
import type { TrainResult } from './training';

function trained() {
  const envs = new SyncVectorEnv([() => createCartPole(), () => createCartPole()]);
  return trainPpo({ envs, totalTimesteps: 1024, seed: 9, nSteps: 256, nEpochs: 1, featureSetVersion: 'fs-1' });
}

function fakeResult(policy: ActorCritic): TrainResult<object> {
  return { algorithm: 'a2c', policy, hyperparameters: { nSteps: 5 }, seed: 1, timesteps: 0, episodes: 0, updates: 0, meanEpisodicReturn: Number.NaN, seconds: 0 };
}

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (error) {
    expect(isKflowError(error, code), String(error)).toBe(true);
    return;
  }
  throw new Error(`expected a KflowError ${code}`);
}

describe('checkpoints', () => {
  it('round-trip bit-identical weights and actions, through files too', async () => {
    const result = trained();
    const checkpoint = createCheckpoint(result, { envId: 'CartPole-v1' });
    const dir = await mkdtemp(join(tmpdir(), 'kflow-ckpt-'));
    try {
      await writeCheckpoint(dir, checkpoint);
      const fromDisk = await readCheckpoint(dir);
      expect(fromDisk.manifest).toEqual(JSON.parse(JSON.stringify(checkpoint.manifest)));
      for (const source of [checkpoint, fromDisk]) {
        const policy = loadPolicy(source, { featureSetVersion: 'fs-1', observationSize: 4, action: { kind: 'discrete', n: 2 } });
        expect(Array.from(policy.parameters)).toEqual(Array.from(result.policy.policyNet.params));
        const rng = createRng(2);
        for (let i = 0; i < 200; i++) {
          const obs = Float32Array.from({ length: 4 }, () => rng.normal());
          expect(policy.act(obs)).toBe(result.policy.act(obs));
        }
        expect(policy.featureSetVersion).toBe('fs-1');
        expect(policy.actionCount).toBe(2);
      }
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const m = checkpoint.manifest;
    expect(m.algorithm).toBe('ppo');
    expect(m.seed).toBe(9);
    expect(m.hyperparameters.nSteps).toBe(256);
    expect(m.training.timesteps).toBe(1024);
    expect(m.weightsByteLength).toBe(4 * (result.policy.policyNet.paramCount + result.policy.valueNet!.paramCount));
  });

  it('round-trips a shared-trunk MultiDiscrete policy', () => {
    const ac = new ActorCritic({ observationSize: 3, nvec: [2, 3], shared: true, hiddenSizes: [8], activation: 'relu' });
    ac.init(createRng(3));
    const policy = loadPolicy(createCheckpoint(fakeResult(ac)), { action: { kind: 'multiDiscrete', nvec: [2, 3] } });
    const rng = createRng(4);
    for (let i = 0; i < 50; i++) {
      const obs = Float32Array.from({ length: 3 }, () => rng.normal());
      expect(Array.from(policy.actVector(obs))).toEqual(Array.from(ac.actVector(obs)));
    }
  });

  it('refuses a different feature-set version, observation size or action space', () => {
    const checkpoint = createCheckpoint(trained());
    expectCode(() => loadPolicy(checkpoint, { featureSetVersion: 'fs-2' }), 'FEATURE_SET_MISMATCH');
    expectCode(() => loadPolicy(checkpoint, { observationSize: 5 }), 'CHECKPOINT_MISMATCH');
    expectCode(() => loadPolicy(checkpoint, { action: { kind: 'discrete', n: 3 } }), 'CHECKPOINT_MISMATCH');
    expectCode(() => loadPolicy(checkpoint, { action: { kind: 'multiDiscrete', nvec: [2] } }), 'CHECKPOINT_MISMATCH');
  });

  it('refuses corrupted weights and unknown format versions', () => {
    const checkpoint = createCheckpoint(trained());
    const weights = checkpoint.weights.slice();
    weights[100] = weights[100]! ^ 1;
    expectCode(() => loadPolicy({ ...checkpoint, weights }), 'CHECKPOINT_INVALID');
    expectCode(() => loadPolicy({ ...checkpoint, weights: checkpoint.weights.subarray(4) }), 'CHECKPOINT_INVALID');
    expectCode(() => loadPolicy({ ...checkpoint, manifest: { ...checkpoint.manifest, formatVersion: 2 } }), 'CHECKPOINT_INVALID');
    expectCode(() => loadPolicy({ manifest: {} as never, weights }), 'CHECKPOINT_INVALID');
  });
});
