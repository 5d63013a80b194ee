import { expect, it } from 'vitest';
import { createModelRegistry, type ModelDeployment } from './modelRegistry';
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

  it('a registration repeated with its idempotency key returns the first, even when both race', async () => {
    const registry = createModelRegistry({ db: t.db, clock: { now: () => 1 } });
    const base = { name: 'retried', architecture: 'x', featureSetVersion: 'fs-1' };
    const [a, b] = await Promise.all([
      registry.register({ ...base, checkpointPath: 'first', idempotencyKey: 'job:1' }),
      registry.register({ ...base, checkpointPath: 'second', idempotencyKey: 'job:1' }),
    ]);
    expect(a.id).toBe(b.id);
    const again = await registry.register({ ...base, checkpointPath: 'third', idempotencyKey: 'job:1' });
    const other = await registry.register({ ...base, checkpointPath: 'fourth', idempotencyKey: 'job:2' });
    expect(again.id).toBe(a.id);
    expect((await registry.list('retried')).map((m) => [m.version, m.id])).toEqual([
      [1, a.id],
      [2, other.id],
    ]);
  });

  it('deploy, rollback and the deployment history; a model still training cannot be deployed', async () => {
    let now = 10;
    const registry = createModelRegistry({ db: t.db, clock: { now: () => now } });
    const base = { name: 'dep', architecture: 'x', featureSetVersion: 'fs-1' } as const;
    const v1 = await registry.register({ ...base, checkpointPath: 'd1', status: 'ready' });
    const v2 = await registry.register({ ...base, checkpointPath: 'd2', status: 'ready' });
    const v3 = await registry.register({ ...base, checkpointPath: 'd3' });
    expect(await registry.deployment('dep')).toBeUndefined();
    await expect(registry.rollback('dep')).rejects.toMatchObject({ code: 'NO_PREVIOUS_DEPLOYMENT' });
    await expect(registry.deploy('dep', 3)).rejects.toMatchObject({ code: 'MODEL_NOT_DEPLOYABLE' });
    await expect(registry.deploy('dep', 9)).rejects.toMatchObject({ code: 'MODEL_NOT_FOUND' });
    expect((await registry.get(v3.id)).status).toBe('training');

    const d1 = await registry.deploy('dep', 1);
    expect(d1).toMatchObject({ action: 'deploy', deployedMs: 10, model: { id: v1.id, status: 'deployed' } });
    now = 20;
    const d2 = await registry.deploy('dep', 2);
    expect(d2.model.status).toBe('deployed');
    expect((await registry.get(v1.id)).status).toBe('ready'); // one deployed version per name
    now = 30;
    const back = await registry.rollback('dep');
    expect(back).toMatchObject({ action: 'rollback', deployedMs: 30, model: { id: v1.id, status: 'deployed' } });
    expect((await registry.get(v2.id)).status).toBe('ready');
    expect((await registry.deployment('dep'))?.id).toBe(back.id);
    expect((await registry.deployments('dep')).map((d) => [d.model.version, d.action])).toEqual([
      [1, 'rollback'],
      [2, 'deploy'],
      [1, 'deploy'],
    ]);
    expect(d2.id).toBeGreaterThan(d1.id);
    // Rolling back again returns to v2 (the deployment before the current one).
    expect((await registry.rollback('dep')).model.version).toBe(2);
  });

  it('watch reports the current deployment, then each change at once through LISTEN/NOTIFY (no poll needed)', async () => {
    const registry = createModelRegistry({ db: t.db, clock: { now: () => 1 } });
    const timers = manualTimers(); // polls only when the test ticks: every later report comes from NOTIFY
    const watching = createModelRegistry({ db: t.db, clock: { now: () => 1 }, timers });
    const base = { name: 'hot', architecture: 'x', featureSetVersion: 'fs-1', status: 'ready' } as const;
    const h1 = await registry.register({ ...base, checkpointPath: 'h1' });
    const h2 = await registry.register({ ...base, checkpointPath: 'h2' });
    await registry.deploy('hot', 1);
    const seen: ModelDeployment[] = [];
    const watcher = watching.watch('hot', { onDeployment: (d) => seen.push(d), intervalMs: 60_000 });
    await waitFor(() => seen.length === 1, 'the current deployment');
    expect(seen[0]!.model.id).toBe(h1.id);
    // Another name's deployment is not reported.
    await registry.register({ ...base, name: 'other', checkpointPath: 'o1' });
    await registry.deploy('other', 1);
    await registry.deploy('hot', 2);
    await waitFor(() => seen.length === 2, 'the new version, through NOTIFY');
    expect(seen[1]!.model.id).toBe(h2.id);
    await registry.rollback('hot');
    await waitFor(() => seen.length === 3, 'the rollback, through NOTIFY');
    expect(seen[2]).toMatchObject({ action: 'rollback', model: { id: h1.id } });
    await watcher.stop();
    await registry.deploy('hot', 2);
    await new Promise((resolve) => setTimeout(resolve, 100));
    timers.tick();
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(seen).toHaveLength(3);
  });

  it('watch falls back to polling where the database cannot LISTEN', async () => {
    const registry = createModelRegistry({ db: t.db, clock: { now: () => 1 } });
    const timers = manualTimers();
    const polling = createModelRegistry({ db: { query: (text, params) => t.db.query(text, params) }, clock: { now: () => 1 }, timers });
    await registry.register({ name: 'poll', architecture: 'x', featureSetVersion: 'fs-1', checkpointPath: 'p1', status: 'ready' });
    await registry.register({ name: 'poll', architecture: 'x', featureSetVersion: 'fs-1', checkpointPath: 'p2', status: 'ready' });
    const seen: ModelDeployment[] = [];
    const watcher = polling.watch('poll', { onDeployment: (d) => seen.push(d) });
    await waitFor(() => timers.pending() === 1, 'first poll');
    expect(seen).toHaveLength(0); // never deployed
    await registry.deploy('poll', 2);
    timers.tick();
    await waitFor(() => seen.length === 1, 'the deployment, by polling');
    expect(seen[0]!.model.version).toBe(2);
    await watcher.stop();
  });
});
