import { type KflowError, createRng, isKflowError } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createAsyncVectorEnv } from './asyncVectorEnv';
import { type ScriptedWorkerOptions, setupMultiDiscreteEnvs, setupScriptedEnvs, testingSpec } from './asyncVectorEnv.testing';
import { createCartPole } from './cartPole';
import { cartPoleWorkerEnv } from './cartPoleWorkerEnv';
import { throwsCode } from './env.testing';
import type { Box, MultiDiscrete } from './spaces';
import { SyncVectorEnv, type VectorResetResult, type VectorStepResult } from './syncVectorEnv';

/** Everything a reset or step returns, as plain values (typed arrays copied). */
function snapshot(r: VectorResetResult | VectorStepResult) {
  const step = 'rewards' in r ? r : undefined; // a reset returns the same object, per-step arrays at 0
  return {
    observations: Array.from(r.observations),
    rewards: step && Array.from(step.rewards),
    terminated: step && Array.from(step.terminated),
    truncated: step && Array.from(step.truncated),
    autoreset: step && Array.from(step.autoreset),
    actionMasks: r.actionMasks && Array.from(r.actionMasks),
    infos: structuredClone(r.infos),
  };
}

/** Awaits `promise` and returns the KflowError it rejects with. */
async function rejection(promise: Promise<unknown>): Promise<KflowError> {
  const error: unknown = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isKflowError(error)) throw new Error(`expected a KflowError, got ${String(error)}`);
  return error;
}

function caught(fn: () => unknown): KflowError {
  try {
    fn();
  } catch (error) {
    if (isKflowError(error)) return error;
    throw error;
  }
  throw new Error('expected a KflowError, nothing was thrown');
}

describe('AsyncVectorEnv', () => {
  it('matches SyncVectorEnv step for step: next-step autoreset (terminated and truncated), masks, episode infos, uneven blocks', async () => {
    const options: ScriptedWorkerOptions = { lengths: [2, 3, 4, 2, 5], truncating: [1, 3], masked: [0, 3], statistics: true };
    const envs = await createAsyncVectorEnv({ env: testingSpec('setupScriptedEnvs', options), numEnvs: 5, workers: 2 });
    const make = setupScriptedEnvs(options);
    const sync = new SyncVectorEnv(options.lengths.map((_, i) => () => make(i)));
    try {
      expect([envs.numEnvs, envs.workers, envs.observationSize, envs.autoresetMode]).toEqual([5, 2, 2, 'next-step']);
      expect(envs.singleActionSpace.equals(sync.singleActionSpace) && envs.singleObservationSpace.equals(sync.singleObservationSpace)).toBe(true);
      const first = envs.reset({ seed: 7 });
      expect(snapshot(first)).toEqual(snapshot(sync.reset({ seed: 7 })));
      const rng = createRng(3);
      const actions = new Int32Array(5);
      let autoresets = 0;
      for (let t = 0; t < 24; t++) {
        for (let i = 0; i < 5; i++) actions[i] = rng.int(3);
        const out = envs.step(actions);
        expect(out).toBe(first); // one result object, reused
        expect(snapshot(out)).toEqual(snapshot(sync.step(actions)));
        autoresets += out.autoreset.reduce((a, b) => a + b, 0);
      }
      expect(autoresets).toBeGreaterThan(10);
      // Observations, rewards, flags and masks live in shared memory the workers write into.
      const out = envs.step(actions);
      for (const array of [out.observations, out.rewards, out.terminated, out.truncated, out.autoreset, out.actionMasks!]) {
        expect(array.buffer).toBeInstanceOf(SharedArrayBuffer);
      }
      // Sub-env 0 (2 steps, terminating) on steps 2 and 3 of a fresh episode: final observation, then the reset row.
      envs.reset({ seed: 1 });
      envs.step(actions);
      const end = envs.step(actions);
      expect([end.terminated[0], end.truncated[0], end.infos[0]!['t']]).toEqual([1, 0, 2]);
      expect(end.infos[0]!.episode).toEqual({ r: actions[0]! + 0.1 + (actions[0]! + 0.2), l: 2, t: 0 });
      const next = envs.step(actions);
      expect([next.autoreset[0], next.rewards[0], next.observations[0], next.observations[1]]).toEqual([1, 0, 0, 1002]);
    } finally {
      envs.close();
    }
  });

  it('gives the seeded CartPole trajectories of SyncVectorEnv, with the sub-envs built from @kflow/env in the workers', async () => {
    const envs = await createAsyncVectorEnv({ env: cartPoleWorkerEnv(), numEnvs: 4, workers: 3 });
    const sync = new SyncVectorEnv(Array.from({ length: 4 }, () => () => createCartPole()));
    try {
      expect(Array.from(envs.reset({ seed: 42 }).observations)).toEqual(Array.from(sync.reset({ seed: 42 }).observations));
      const rng = createRng(9);
      const actions = new Int32Array(4);
      let episodes = 0;
      for (let t = 0; t < 300; t++) {
        for (let i = 0; i < 4; i++) actions[i] = rng.int(2);
        const a = envs.step(actions);
        const b = sync.step(actions);
        expect(Array.from(a.observations)).toEqual(Array.from(b.observations));
        expect([Array.from(a.rewards), Array.from(a.terminated), Array.from(a.truncated), Array.from(a.autoreset)]).toEqual([
          Array.from(b.rewards),
          Array.from(b.terminated),
          Array.from(b.truncated),
          Array.from(b.autoreset),
        ]);
        episodes += a.terminated.reduce((s, x) => s + x, 0);
      }
      expect(episodes).toBeGreaterThan(10);
    } finally {
      envs.close();
    }
  });

  it('rejects misuse in the calling thread and stays usable; infos are read on demand; close is idempotent and closes every sub-env', async () => {
    const closes = new SharedArrayBuffer(3 * 4);
    const envs = await createAsyncVectorEnv({ env: testingSpec('setupScriptedEnvs', { lengths: [3, 3, 3], closes }), numEnvs: 3, workers: 2 });
    throwsCode(() => envs.step(Int32Array.of(0, 0, 0)), 'ENV_NEEDS_RESET');
    envs.reset({ seed: 0 });
    throwsCode(() => envs.step(Int32Array.of(0, 0)), 'INVALID_ACTION');
    throwsCode(() => envs.step(Int32Array.of(0, 3, 0)), 'INVALID_ACTION');
    throwsCode(() => envs.reset({ options: { notCloneable: () => 0 } }), 'INVALID_ARGUMENT');
    const result = envs.step(Int32Array.of(1, 2, 0));
    expect(Array.from(result.rewards)).toEqual([1.1, 2.1, 0.1]);
    expect(result.infos).toEqual([{ t: 1 }, { t: 1 }, { t: 1 }]);
    envs.step(Int32Array.of(0, 0, 0));
    envs.close();
    envs.close();
    expect(Array.from(new Int32Array(closes))).toEqual([1, 1, 1]);
    // Infos travel when read: those of the last step, unread before close, are gone with the workers.
    throwsCode(() => result.infos, 'INVALID_ARGUMENT');
    throwsCode(() => envs.reset(), 'INVALID_ARGUMENT');
    throwsCode(() => envs.step(Int32Array.of(0, 0, 0)), 'INVALID_ARGUMENT');
  });

  it('sends array actions (MultiDiscrete) row by row', async () => {
    const envs = await createAsyncVectorEnv<Box, MultiDiscrete>({ env: testingSpec('setupMultiDiscreteEnvs', {}), numEnvs: 2, workers: 2 });
    const make = setupMultiDiscreteEnvs({});
    const sync = new SyncVectorEnv([() => make(0), () => make(1)]);
    try {
      expect(String(envs.singleActionSpace)).toBe('MultiDiscrete([2, 3])');
      sync.reset({ seed: 5 });
      expect(Array.from(envs.reset({ seed: 5 }).actionMasks!)).toEqual([1, 1, 1, 1, 1, 1, 1, 1, 1, 1]);
      for (let t = 0; t < 20; t++) {
        const actions = [Int32Array.of(t % 2, 2), Int32Array.of((t >> 2) % 2, 0)];
        expect(Array.from(envs.step(actions).observations)).toEqual(Array.from(sync.step(actions).observations));
      }
      throwsCode(() => envs.step([Int32Array.of(0, 3), Int32Array.of(0, 0)]), 'INVALID_ACTION');
    } finally {
      envs.close();
    }
  });

  it('surfaces an exception in a sub-env as WORKER_FAILED on the pending call, then stays closed', async () => {
    const closes = new SharedArrayBuffer(4 * 4);
    const spec = testingSpec('setupScriptedEnvs', { lengths: [9, 9, 9, 9], closes, fault: { index: 2, step: 3, kind: 'throw' } });
    const envs = await createAsyncVectorEnv({ env: spec, numEnvs: 4, workers: 2 });
    envs.reset({ seed: 0 });
    const actions = Int32Array.of(0, 0, 0, 0);
    envs.step(actions);
    envs.step(actions);
    const error = caught(() => envs.step(actions));
    expect(error.code).toBe('WORKER_FAILED');
    expect(error.message).toContain('worker 1 (sub-envs 2–3) failed during step: scripted fault in sub-env 2 at step 3');
    expect((error.cause as Error).message).toBe('scripted fault in sub-env 2 at step 3');
    expect(error.details).toMatchObject({ worker: 1, start: 2, count: 2, command: 'step' });
    // The failure closed the vector env: every sub-env was closed, later calls fail the same way.
    expect(Array.from(new Int32Array(closes))).toEqual([1, 1, 1, 1]);
    throwsCode(() => envs.step(actions), 'WORKER_FAILED');
    throwsCode(() => envs.reset(), 'WORKER_FAILED');
    envs.close();
  });

  it('surfaces a worker thread that exits as WORKER_FAILED on the pending call instead of hanging', async () => {
    const closes = new SharedArrayBuffer(3 * 4);
    const spec = testingSpec('setupScriptedEnvs', { lengths: [9, 9, 9], closes, fault: { index: 0, step: 2, kind: 'exit' } });
    const envs = await createAsyncVectorEnv({ env: spec, numEnvs: 3, workers: 2 });
    envs.reset({ seed: 0 });
    envs.step(Int32Array.of(0, 0, 0));
    const error = caught(() => envs.step(Int32Array.of(0, 0, 0)));
    expect(error.code).toBe('WORKER_FAILED');
    expect(error.message).toContain('worker 0 (sub-envs 0–1) exited with code 3 during step');
    expect(error.details).toMatchObject({ worker: 0, exitCode: 3 });
    // The dead worker's sub-envs could not be closed; the other worker's were.
    expect(Array.from(new Int32Array(closes))).toEqual([0, 0, 1]);
    throwsCode(() => envs.step(Int32Array.of(0, 0, 0)), 'WORKER_FAILED');
  });

  it('fails to start with a typed error: bad counts, options that cannot be sent, a module without the export', async () => {
    const spec = testingSpec('setupScriptedEnvs', { lengths: [2, 2] });
    expect((await rejection(createAsyncVectorEnv({ env: spec, numEnvs: 0 }))).code).toBe('INVALID_ARGUMENT');
    expect((await rejection(createAsyncVectorEnv({ env: spec, numEnvs: 2, workers: 3 }))).code).toBe('INVALID_ARGUMENT');
    const notCloneable = testingSpec('setupScriptedEnvs', { lengths: [2], make: () => 0 });
    expect((await rejection(createAsyncVectorEnv({ env: notCloneable, numEnvs: 1 }))).code).toBe('INVALID_ARGUMENT');
    const missing = await rejection(createAsyncVectorEnv({ env: testingSpec('setupNothing', {}), numEnvs: 2, workers: 2 }));
    expect(missing.code).toBe('WORKER_FAILED');
    expect(missing.message).toMatch(/worker \d \(sub-env \d\) could not build its envs from .*asyncVectorEnv\.testing\.ts \(export "setupNothing"\): .*no function export named "setupNothing"/);
    expect(isKflowError(missing.cause, 'INVALID_ARGUMENT')).toBe(true);
  });
});
