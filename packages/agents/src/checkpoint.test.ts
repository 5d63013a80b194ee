import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncVectorEnv, createCartPole, createKalshiEnv, createSyntheticSession } from '@kflow/env';
import { FEATURE_SET_VERSION } from '@kflow/features';
import { createRng, fnv1a32, isKflowError } from '@kflow/orderbook';
import { type TradingSetupOptions, tradingSetupToJson } from '@kflow/paper';
import { beforeAll, describe, expect, it } from 'vitest';
import { ActorCritic } from './actorCritic';
import { type Checkpoint, createCheckpoint, loadPolicy } from './checkpoint';
import { readCheckpoint, writeCheckpoint } from './checkpointFiles';
import { createAdam } from './optimizers';
import { trainPpo } from './ppo';
import type { TrainResult } from './training';

function trained() {
  const envs = new SyncVectorEnv([() => createCartPole(), () => createCartPole()]);
  return trainPpo({ envs, totalTimesteps: 1024, seed: 9, nSteps: 256, nEpochs: 1, featureSetVersion: 'fs-1' });
}

function fakeResult(policy: ActorCritic): TrainResult<object> {
  return { algorithm: 'a2c', policy, hyperparameters: { nSteps: 5 }, seed: 1, timesteps: 0, episodes: 0, updates: 0, meanEpisodicReturn: Number.NaN, seconds: 0, optimizer: createAdam({ sizes: policy.parameters().map((p) => p.length), learningRate: 0 }).exportState() };
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

describe('checkpoints: trading setup and weight sanity', () => {
  const TRADING: TradingSetupOptions = {
    cadence: { everyMs: 2_000 },
    sizesCenti: [100],
    tradingKinds: ['BUY_YES_NOW', 'SELL_YES_NOW', 'BUY_NO_NOW', 'SELL_NO_NOW'],
    positionLimitCenti: 500,
    initialCashMicros: 7_000_000,
    rewardScale: 1e-3,
    fees: { feeType: 'quadratic_with_maker_fees' },
    queueModel: 'proportional',
    latency: { baseMs: 50 },
  };
  const session = createSyntheticSession({ seed: 5, markets: 1, eventsPerMarket: 1_500 });
  const kalshiEnv = () => createKalshiEnv({ sessions: [session], episodeSteps: 32, ...TRADING });

  /** A tiny PPO run on the Kalshi env, checkpointed with the env's setup. */
  function trainedKalshi() {
    const env = kalshiEnv();
    const envs = new SyncVectorEnv([kalshiEnv, kalshiEnv]);
    const result = trainPpo({ envs, totalTimesteps: 128, seed: 3, nSteps: 64, nEpochs: 1, featureSetVersion: FEATURE_SET_VERSION, policy: { hiddenSizes: [8] } });
    return { setup: env.setup, checkpoint: createCheckpoint(result, { envId: 'kalshi', trading: env.setup }), result };
  }

  /** The checkpoint with float `index` of the policy tensor set to `value`, its FNV-1a updated to match. */
  function withPolicyWeight(checkpoint: Checkpoint, index: number, value: number, rehash = true): Checkpoint {
    const tensor = checkpoint.manifest.tensors.find((t) => t.name === 'policy')!;
    const weights = checkpoint.weights.slice();
    new DataView(weights.buffer).setFloat32((tensor.offset + index) * 4, value, true);
    return { manifest: rehash ? { ...checkpoint.manifest, weightsFnv1a: fnv1a32(weights) } : checkpoint.manifest, weights };
  }

  function errorOf(fn: () => unknown): { code: unknown; message: string } {
    try {
      fn();
    } catch (error) {
      return { code: isKflowError(error) ? error.code : `not a KflowError: ${String(error)}`, message: (error as Error).message };
    }
    throw new Error('expected an error');
  }

  let trained: ReturnType<typeof trainedKalshi>;
  beforeAll(() => {
    trained = trainedKalshi();
  });

  it('records the env’s trading setup in the manifest and restores it as policy.trading', async () => {
    const { setup, checkpoint, result } = trained;
    expect(setup).toMatchObject({ cadence: { everyMs: 2_000 }, sizesCenti: [100], positionLimitCenti: 500, latency: { baseMs: 50 } });
    expect(checkpoint.manifest.trading).toEqual(tradingSetupToJson(setup));
    expect(checkpoint.manifest.spaces.action).toEqual({ kind: 'discrete', n: 10 });
    const policy = loadPolicy(checkpoint, { featureSetVersion: FEATURE_SET_VERSION, action: { kind: 'discrete', n: 10 } });
    expect(policy.trading).toEqual(setup);
    expect(Array.from(policy.parameters)).toEqual(Array.from(result.policy.policyNet.params));
    // Through the files, where the manifest is JSON text.
    const dir = await mkdtemp(join(tmpdir(), 'kflow-ckpt-trading-'));
    try {
      await writeCheckpoint(dir, checkpoint);
      expect(loadPolicy(await readCheckpoint(dir)).trading).toEqual(setup);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('leaves trading out of checkpoints made without it', () => {
    const checkpoint = createCheckpoint(fakeResult(new ActorCritic({ observationSize: 3, nvec: [2], hiddenSizes: [4] })));
    expect('trading' in checkpoint.manifest).toBe(false);
    expect(loadPolicy(checkpoint).trading).toBeUndefined();
  });

  it('refuses an invalid recorded trading setup with CHECKPOINT_INVALID', () => {
    const { checkpoint } = trained;
    const trading = checkpoint.manifest.trading!;
    const bad: unknown[] = [
      { ...trading, sizesCenti: [] },
      { ...trading, tradingKinds: ['HOLD'] },
      { ...trading, precision: 'wholesale' },
      { ...trading, cadence: { everyMs: -1 } },
      { ...trading, featureSetVersion: undefined },
      { ...trading, fees: { feeType: 'flat' } },
      'trading',
      null,
    ];
    for (const value of bad) {
      const manifest = { ...checkpoint.manifest, trading: value as Record<string, unknown> };
      const e = errorOf(() => loadPolicy({ ...checkpoint, manifest }));
      expect(e.code, JSON.stringify(value)).toBe('CHECKPOINT_INVALID');
      expect(e.message).toMatch(/manifest\.trading is invalid/);
    }
  });

  it('refuses a NaN or infinite policy weight even when the hash matches', () => {
    const { checkpoint } = trained;
    // Changing a weight without updating the hash fails the integrity check first.
    expect(errorOf(() => loadPolicy(withPolicyWeight(checkpoint, 3, Number.NaN, false)))).toMatchObject({
      code: 'CHECKPOINT_INVALID',
      message: expect.stringMatching(/FNV-1a/),
    });
    // With the hash updated, the weight check is what refuses it.
    for (const value of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      for (const index of [0, 3, checkpoint.manifest.tensors.find((t) => t.name === 'policy')!.length - 1]) {
        const e = errorOf(() => loadPolicy(withPolicyWeight(checkpoint, index, value)));
        expect(e.code).toBe('CHECKPOINT_INVALID');
        expect(e.message).toBe(`policy weight ${index} is ${value}: the checkpoint is not usable`);
      }
    }
    // The same patch with a finite value loads, and the policy carries it: the refusal above is the NaN's.
    const patched = loadPolicy(withPolicyWeight(checkpoint, 3, 0.125));
    expect(patched.parameters[3]).toBe(0.125);
  });
});
