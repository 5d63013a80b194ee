import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ActorEvent } from '@kflow/actor';
import { type IngestDatabase, createModelRegistry, loadEpisodeActions, getEpisode, createSessionLoader } from '@kflow/ingest';
import { resolveSimConfig } from '@kflow/sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAudit } from './commands/audit';
import { registerCheckpoint } from './commands/models';
import { type PaperSession, resolveModelSource, startPaperSession } from './paperTrading';
import { BACKENDS, TEST_SETUP, trainTestModel } from './paperTrading.testing';
import { startSimExchange } from './simExchange';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-paper-'));
  await Promise.all([
    trainTestModel(join(dir, 'v1'), 1),
    trainTestModel(join(dir, 'v2'), 2),
    // Trained for another decision cadence: a running actor must refuse it.
    trainTestModel(join(dir, 'other-cadence'), 3, { ...TEST_SETUP, cadence: { everyMs: 1000 } }),
  ]);
  // A checkpoint corrupted after it was registered: its weights no longer match the manifest.
  await mkdir(join(dir, 'corrupt'));
  await copyFile(join(dir, 'v2', 'manifest.json'), join(dir, 'corrupt', 'manifest.json'));
  const weights = await readFile(join(dir, 'v2', 'weights.bin'));
  weights[17] = weights[17]! ^ 0xff;
  await writeFile(join(dir, 'corrupt', 'weights.bin'), weights);
}, 120_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A paper session on the simulator's exchange, trading the deployment of `name`. */
async function paperOn(db: IngestDatabase, sim: Awaited<ReturnType<typeof startSimExchange>>, name: string, seed: number, onEvent?: (e: ActorEvent) => void): Promise<PaperSession> {
  return startPaperSession({
    db,
    spillDir: dir,
    url: sim.server.url,
    signer: sim.signer,
    environment: 'sim',
    markets: sim.server.markets.map((m) => m.ticker),
    models: await resolveModelSource(db, name),
    seed,
    ...(onEvent === undefined ? {} : { onEvent }),
  });
}

async function until(what: string, condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const start = performance.now();
  while (!condition()) {
    if (performance.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

for (const backend of BACKENDS) {
  describe.skipIf(backend.skip)(`paper trading against the simulator's exchange on ${backend.name}`, () => {
    it('trades live books, reloads a deployment and a rollback with no missed tick, refuses a corrupt and an incompatible model, and the audit finds every decision identical', async () => {
      const { db, dispose } = await backend.open();
      const config = resolveSimConfig('informed', { seed: 31, markets: 6, durationMs: 4 * 60_000 });
      const sim = await startSimExchange(config, 60);
      const { server } = sim;
      try {
        const registry = createModelRegistry({ db });
        await registerCheckpoint(db, join(dir, 'v1'), 'paper-test', { deploy: true });
        await registerCheckpoint(db, join(dir, 'v2'), 'paper-test');
        const corrupt = await registry.register({ name: 'paper-test', architecture: 'mlp', checkpointPath: join(dir, 'corrupt'), featureSetVersion: 'kflow-features/1', status: 'ready' });
        const other = await registerCheckpoint(db, join(dir, 'other-cadence'), 'paper-test');
        const events: ActorEvent[] = [];
        const session = await paperOn(db, sim, 'paper-test', 5, (e) => events.push(e));
        const progress = () => server.progress.fraction;
        const reloads = () => events.filter((e) => e.type === 'reload').length;
        const refusals = () => events.filter((e) => e.type === 'refused').length;
        await until('a fifth of the session', () => progress() > 0.2);
        await registry.deploy('paper-test', 2);
        await until('the reload of v2', () => reloads() === 1);
        await until('two fifths of the session', () => progress() > 0.4);
        await registry.rollback('paper-test');
        await until('the rollback to v1', () => reloads() === 2);
        await registry.deploy('paper-test', corrupt.version);
        await until('the corrupt model refused', () => refusals() === 1);
        await registry.deploy('paper-test', other.model.version);
        await until('the incompatible model refused', () => refusals() === 2);
        const decisionsAtRefusal = session.actor.summary().decisions;
        await server.finished;
        await until('every market settled', () => events.filter((e) => e.type === 'settled').length === 6, 10_000);
        const report = await session.stop();
        const summary = report.actor;

        expect(summary.modelVersions).toEqual([1, 2, 1]);
        expect(summary.reloads.map((r) => [r.version, r.missedTicks])).toEqual([[2, 0], [1, 0]]);
        for (const r of summary.reloads) expect(r.deployToFirstDecisionMs).toBeGreaterThanOrEqual(0);
        expect(summary.refusals.map((r) => r.version)).toEqual([corrupt.version, other.model.version]);
        expect(summary.refusals[0]!.reason).toMatch(/weights file does not match/);
        expect(summary.refusals[1]!.reason).toMatch(/cadence/);
        expect(summary.decisions).toBeGreaterThan(decisionsAtRefusal); // trading went on
        expect(summary.orders).toBeGreaterThan(0);
        expect(summary.fills).toBeGreaterThan(0);
        // Nothing lost: one stored row per decision; the episode and the session are closed.
        const rows = await loadEpisodeActions(db, report.episodeId);
        expect(report.actions).toMatchObject({ written: summary.decisions, dropped: 0 });
        expect(rows).toHaveLength(summary.decisions);
        const episode = await getEpisode(db, report.episodeId);
        expect(episode).toMatchObject({ mode: 'paper', sessionId: report.sessionId, steps: summary.decisions });
        expect(episode.endedMs).not.toBeNull();
        expect((await createSessionLoader({ db }).list()).find((s) => s.id === report.sessionId)?.status).toBe('completed');

        const audit = await runAudit(db, { session: report.sessionId, episode: String(report.episodeId) });
        expect(audit).toMatchObject({ decisions: summary.decisions, mismatches: 0, firstMismatch: null, markets: 6, unfinished: 0 });
        expect(audit.pnlLive).toBe(audit.pnlReplay);
        expect(audit.pnlLive).toBeCloseTo(summary.pnlMicros / 1e6, 9);
        expect(audit.models).toEqual(['paper-test v1', 'paper-test v2']);
      } finally {
        await server.close();
        await dispose();
      }
    });

    it('stops at the session loss limit: cancels, holds, says so, and the audit still matches', async () => {
      const { db, dispose } = await backend.open();
      const config = resolveSimConfig('informed', { seed: 33, markets: 4, durationMs: 3 * 60_000 });
      const sim = await startSimExchange(config, 60);
      try {
        await registerCheckpoint(db, join(dir, 'v1'), 'loss-test', { deploy: true });
        const events: ActorEvent[] = [];
        const state = { halted: false, ordersAfter: 0 };
        const limitMicros = 10_000; // one cent: the spread and the fee of a first taker trade exceed it
        const session = await startPaperSession({
          db,
          spillDir: dir,
          url: sim.server.url,
          signer: sim.signer,
          environment: 'sim',
          markets: sim.server.markets.map((m) => m.ticker),
          models: await resolveModelSource(db, 'loss-test'),
          seed: 7,
          risk: { sessionLossLimitMicros: limitMicros },
          onEvent: (e) => {
            events.push(e);
            if (e.type === 'halt') state.halted = true;
            else if (e.type === 'decision' && state.halted && e.record.order !== null) state.ordersAfter++;
          },
        });
        await sim.server.finished;
        await new Promise((resolve) => setTimeout(resolve, 300));
        const report = await session.stop();
        const halt = events.find((e) => e.type === 'halt');
        expect(halt).toMatchObject({ type: 'halt', limitMicros });
        expect(report.actor.halted).toBe(true);
        expect(state.ordersAfter).toBe(0);
        expect(report.actor.overrides.halted).toBeGreaterThan(0);
        const audit = await runAudit(db, { session: report.sessionId, episode: String(report.episodeId) });
        expect(audit).toMatchObject({ decisions: report.actor.decisions, mismatches: 0 });
      } finally {
        await sim.server.close();
        await dispose();
      }
    });

    it('does not trade on a stale book after a sequence gap, until the resync snapshot; the audit still matches', async () => {
      const { db, dispose } = await backend.open();
      const config = resolveSimConfig('informed', { seed: 32, markets: 4, durationMs: 10 * 60_000 });
      // As fast as the client reads: the resync takes a round trip, during which exchange time runs on for
      // several decision ticks.
      const sim = await startSimExchange(config, 'max');
      const { server } = sim;
      try {
        await registerCheckpoint(db, join(dir, 'v1'), 'gap-test', { deploy: true });
        const session = await paperOn(db, sim, 'gap-test', 6);
        await until('a third of the session', () => server.progress.fraction > 0.33);
        expect(server.faults.sequenceGap()).toBeGreaterThan(0);
        await until('the gap', () => session.collector.client.stats.gaps > 0);
        await server.finished;
        await new Promise((resolve) => setTimeout(resolve, 300));
        const report = await session.stop();
        expect(report.collector.counts.gaps).toBeGreaterThan(0);
        expect(report.actor.overrides.stale).toBeGreaterThan(0);
        const rows = await loadEpisodeActions(db, report.episodeId);
        const stale = rows.filter((r) => r.details['override'] === 'stale');
        expect(stale.length).toBe(report.actor.overrides.stale);
        for (const r of stale) expect(r.details).toMatchObject({ policyAction: null, order: null, action: 0 });
        const audit = await runAudit(db, { session: report.sessionId, episode: String(report.episodeId) });
        expect(audit).toMatchObject({ decisions: report.actor.decisions, mismatches: 0, firstMismatch: null });
      } finally {
        await server.close();
        await dispose();
      }
    });
  });
}
