import { expect, it } from 'vitest';
import { createModelRegistry, type ModelRecord } from './modelRegistry';
import { describeEachBackend, waitFor } from './databases.testing';
import type { Timers } from './timers';

/** Timers a test fires by hand: `tick()` runs everything due. */
function manualTimers(): Timers & { tick(): void; pending(): number } {
  let queue: { fn: () => void; ms: number; id: number }[] = [];
  let id = 0;
  return {
    setTimeout(fn, ms) {
      queue.push({ fn, ms, id: ++id });
      return id;
    },
    clearTimeout(handle) {
      queue = queue.filter((t) => t.id !== handle);
    },
    tick() {
      const due = queue;
      queue = [];
      for (const t of due) t.fn();
    },
    pending: () => queue.length,
  };
}

describeEachBackend('model registry', 'models', (t) => {

  it('versions per name, status lifecycle, latest ready/deployed, lineage', async () => {
    let now = 1000;
    const registry = createModelRegistry({ db: t.db, clock: { now: () => now } });
    const base = { architecture: 'mlp-64x64', featureSetVersion: 'fs-1', hyperparameters: { lr: 3e-4 }, trainingConfig: { steps: 1000 } };
    const a1 = await registry.register({ ...base, name: 'alpha', checkpointPath: 'ckpt/a1' });
    const b1 = await registry.register({ ...base, name: 'beta', checkpointPath: 'ckpt/b1' });
    now = 2000;
    const a2 = await registry.register({ ...base, name: 'alpha', checkpointPath: 'ckpt/a2', parentId: a1.id, status: 'ready', performance: { sharpe: 1.4 } });
    expect([a1.version, b1.version, a2.version]).toEqual([1, 1, 2]);
    expect(a2).toMatchObject({ name: 'alpha', status: 'ready', parentId: a1.id, performance: { sharpe: 1.4 }, hyperparameters: { lr: 3e-4 }, createdMs: 2000 });
    expect(a1.status).toBe('training');

    expect((await registry.latest('alpha'))?.id).toBe(a2.id);
    expect(await registry.latest('beta')).toBeUndefined();
    now = 3000;
    const deployed = await registry.setStatus(a1.id, 'deployed');
    expect(deployed).toMatchObject({ status: 'deployed', updatedMs: 3000, createdMs: 1000 });
    expect((await registry.latest('alpha', ['deployed']))?.id).toBe(a1.id);
    await registry.setStatus(a2.id, 'archived');
    expect((await registry.latest('alpha'))?.id).toBe(a1.id);
    expect((await registry.list('alpha')).map((m) => m.version)).toEqual([1, 2]);
    await expect(registry.get(999_999)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    await expect(registry.setStatus(a1.id, 'live' as 'ready')).rejects.toThrow();
  });

  it('concurrent registrations of one name get distinct versions', async () => {
    const registry = createModelRegistry({ db: t.db, clock: { now: () => 1 } });
    const made = await Promise.all(
      Array.from({ length: 6 }, (_, i) => registry.register({ name: 'race', architecture: 'x', checkpointPath: `c${i}`, featureSetVersion: 'fs-1' })),
    );
    expect(made.map((m) => m.version).sort()).toEqual([1, 2, 3, 4, 5, 6]);
  });

  it('watch reports the current model, then each newer ready version, until stopped', async () => {
    const registry = createModelRegistry({ db: t.db, clock: { now: () => 1 } });
    const timers = manualTimers();
    const watching = createModelRegistry({ db: t.db, clock: { now: () => 1 }, timers });
    const seen: ModelRecord[] = [];
    const first = await registry.register({ name: 'hot', architecture: 'x', checkpointPath: 'h1', featureSetVersion: 'fs-1', status: 'ready' });
    const watcher = watching.watch('hot', { onModel: (m) => seen.push(m), intervalMs: 1000 });
    await waitFor(() => seen.length === 1 && timers.pending() === 1, 'first poll');
    expect(seen[0]!.id).toBe(first.id);
    // A model still training is not loadable; nothing new is reported.
    const training = await registry.register({ name: 'hot', architecture: 'x', checkpointPath: 'h2', featureSetVersion: 'fs-1' });
    timers.tick();
    await waitFor(() => timers.pending() === 1, 'second poll');
    expect(seen.length).toBe(1);
    await registry.setStatus(training.id, 'ready');
    timers.tick();
    await waitFor(() => seen.length === 2, 'newer version');
    expect(seen[1]!.checkpointPath).toBe('h2');
    watcher.stop();
    await waitFor(() => timers.pending() <= 1, 'settle');
    timers.tick();
    expect(timers.pending()).toBe(0);
  });
});
