import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { createRng, isKflowError } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createCheckpoint, resumeState } from './checkpoint';
import { readCheckpoint, writeCheckpoint } from './checkpointFiles';
import { createAdam, createRmsprop } from './optimizers';
import { type PpoOptions, trainPpo } from './ppo';
import type { TrainResult, TrainingEvent } from './training';

const ROLLOUT = 2 * 64;

function ppo(options: Partial<PpoOptions> & { totalTimesteps: number }) {
  const envs = new SyncVectorEnv([() => createCartPole(), () => createCartPole()]);
  const updates: TrainingEvent[] = [];
  const result = trainPpo({
    envs,
    seed: 7,
    nSteps: 64,
    batchSize: 64,
    nEpochs: 2,
    learningRate: { kind: 'linear', start: 1e-3 },
    onEvent: (e) => e.kind === 'update' && updates.push(e),
    ...options,
  });
  envs.close();
  return { result, updates };
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (error) {
    return isKflowError(error) ? error.code : String(error);
  }
  return undefined;
}

describe('optimizer state', () => {
  it('an optimizer given another one\'s state takes the same next step (Adam and RMSprop)', () => {
    const rng = createRng(3);
    const sizes = [5, 3];
    const grads = () => sizes.map((n) => Float32Array.from({ length: n }, () => rng.normal()));
    for (const make of [() => createAdam({ sizes, learningRate: 0.01 }), () => createRmsprop({ sizes, learningRate: 0.01 })]) {
      const a = make();
      const params = sizes.map((n) => new Float32Array(n));
      for (let k = 0; k < 4; k++) a.step(params, grads());
      const b = make();
      b.importState(a.exportState());
      expect(b.exportState()).toEqual(a.exportState());
      const g = grads();
      const copy = params.map((p) => Float32Array.from(p));
      a.step(params, g);
      b.step(copy, g);
      expect(copy).toEqual(params);
    }
    const adam = createAdam({ sizes, learningRate: 0.01 });
    expect(codeOf(() => adam.importState(createAdam({ sizes: [5], learningRate: 0 }).exportState()))).toBe('SHAPE_MISMATCH');
    expect(codeOf(() => adam.importState(createRmsprop({ sizes, learningRate: 0 }).exportState()))).toBe('SHAPE_MISMATCH');
  });
});

describe('resuming a PPO run', () => {
  it('continues from the checkpoint: its parameters, optimizer steps, counters and schedule', async () => {
    const whole = ppo({ totalTimesteps: 4 * ROLLOUT });
    const half = ppo({ totalTimesteps: 2 * ROLLOUT });
    const dir = await mkdtemp(join(tmpdir(), 'kflow-resume-'));
    try {
      await writeCheckpoint(dir, createCheckpoint(half.result));
      const state = resumeState(await readCheckpoint(dir));
      expect(state.parameters).toEqual(half.result.policy.parameters());
      expect(state.optimizer).toEqual(half.result.optimizer);
      expect([state.timesteps, state.episodes, state.updates]).toEqual([half.result.timesteps, half.result.episodes, 2]);

      // Nothing left to do: the policy is the checkpoint's, bit for bit.
      expect(ppo({ totalTimesteps: 2 * ROLLOUT, resume: state }).result.policy.parameters()).toEqual(state.parameters);

      const resumed = ppo({ totalTimesteps: 4 * ROLLOUT, resume: state });
      expect(resumed.updates.map((e) => e.timesteps)).toEqual([3 * ROLLOUT, 4 * ROLLOUT]);
      // The linear learning-rate schedule goes on where it was, as in the run that was never interrupted.
      expect(resumed.updates.map((e) => e.metrics['charts/learning_rate'])).toEqual(whole.updates.slice(2).map((e) => e.metrics['charts/learning_rate']));
      expect(resumed.result.updates).toBe(4);
      expect(resumed.result.optimizer.steps).toBe(whole.result.optimizer.steps);
      expect(resumed.result.episodes).toBeGreaterThan(half.result.episodes);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('refuses a checkpoint without optimizer state, a corrupted one, and another network', async () => {
    const { result } = ppo({ totalTimesteps: ROLLOUT });
    const checkpoint = createCheckpoint(result);
    const { optimizer: _, ...withoutFile } = checkpoint;
    expect(() => resumeState(withoutFile)).toThrow(/no optimizer state/);
    const corrupted = Uint8Array.from(checkpoint.optimizer!);
    corrupted[0]! ^= 1;
    expect(codeOf(() => resumeState({ ...checkpoint, optimizer: corrupted }))).toBe('CHECKPOINT_INVALID');
    expect(() => ppo({ totalTimesteps: 2 * ROLLOUT, resume: resumeState(checkpoint), policy: { hiddenSizes: [8] } })).toThrow(/resume with the same network/);

    // A checkpoint directory whose optimizer file is gone still loads for inference, and says why it cannot resume.
    const dir = await mkdtemp(join(tmpdir(), 'kflow-resume-'));
    try {
      await writeCheckpoint(dir, checkpoint);
      await writeFile(join(dir, 'optimizer.bin'), new Uint8Array(3));
      await expect(readCheckpoint(dir).then(resumeState)).rejects.toThrow(/optimizer.bin does not match the manifest/);
      await rm(join(dir, 'optimizer.bin'));
      await expect(readCheckpoint(dir).then(resumeState)).rejects.toThrow(/no optimizer state/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('hands the run so far to onCheckpoint every checkpointEvery updates', () => {
    const seen: TrainResult<object>[] = [];
    const { result } = ppo({ totalTimesteps: 5 * ROLLOUT, checkpointEvery: 2, onCheckpoint: (r) => seen.push(r) });
    expect(seen.map((r) => [r.updates, r.timesteps])).toEqual([
      [2, 2 * ROLLOUT],
      [4, 4 * ROLLOUT],
    ]);
    expect(seen[1]!.optimizer.steps).toBeLessThan(result.optimizer.steps);
  });
});
