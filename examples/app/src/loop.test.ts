import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ActorCritic, KALSHI_PPO, createAdam, createCheckpoint, writeCheckpoint } from '@kflow/agents';
import { createKalshiEnv, createMarketPool, createSyntheticSession } from '@kflow/env';
import { createModelRegistry } from '@kflow/ingest';
import { createRng } from '@kflow/orderbook';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from './cli.testing';
import { runAudit } from './commands/audit';
import { registerCollect, resolveSource } from './commands/collect';
import { registerCheckpoint, registerModels } from './commands/models';
import { registerTrain } from './commands/train';
import { openJobQueue } from './jobs/queue';
import { type LoopEvent, type LoopOptions, runLoop } from './loop';
import { webhookReceiver as receiver } from './webhookReceiver.testing';
import { listDecisions } from './retrain';
import type { ControllerEvent } from './server/paperController';
import { createWebhooks } from './webhooks';

const dir = mkdtempSync(join(tmpdir(), 'kflow-loop-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const dataDir = join(dir, 'data');

/** The simulator sessions of the test: 16 markets × 15 exchange minutes of the informed preset. */
const sim = (seed: number, edge: number, speed: string) => ({ source: 'sim', preset: 'informed', seed: String(seed), simMarkets: '16', simMinutes: '15', speed, edge: String(edge) });


/** What a fault test of the loop runs on: a job queue, a webhook receiver and the webhooks that post to it. */
interface FaultSetup {
  readonly queue: Awaited<ReturnType<typeof openJobQueue>>;
  readonly hooks: Awaited<ReturnType<typeof receiver>>;
  readonly webhooks: ReturnType<typeof createWebhooks>;
  /** The loop's options for model `name` with sessions from `source`: one retrain cycle every 10 sessions, tiny. */
  options(name: string, source: LoopOptions['source']): LoopOptions;
}

/** Runs `body` on a fresh {@link FaultSetup} in `dir/<subdir>`, and closes it. */
async function withFaultSetup(subdir: string, body: (setup: FaultSetup) => Promise<void>): Promise<void> {
  const data = join(dir, subdir);
  const queue = await openJobQueue({ dataDir: data, superviseIntervalSeconds: 5 });
  const hooks = await receiver();
  const webhooks = createWebhooks({ urls: [hooks.url] });
  const options = (name: string, source: LoopOptions['source']): LoopOptions => ({
    queue,
    storage: { dataDir: data },
    modelsDir: join(dir, 'models'),
    name,
    source,
    schedule: { sessions: 10 },
    retrain: { trainSessions: 1, evalSessions: 1, episodes: 10, threshold: 2 },
    seed: 0,
    webhooks,
  });
  try {
    await body({ queue, hooks, webhooks, options });
  } finally {
    await webhooks.close();
    await hooks.close();
    await queue.close();
  }
}

describe('kflow loop', () => {
  it(
    'promotes a better candidate (the actor reloads it mid-session, 0 missed ticks, audit identical) and refuses one trained where there is no edge',
    async () => {
      // The deployed model to beat: trained briefly on a session without edge.
      await runCli([registerCollect], ['collect', '--source', 'sim', '--edge', '0', '--seed', '40', '--sim-markets', '4', '--sim-minutes', '10', '--data-dir', dataDir, '--json']);
      await runCli([registerTrain], ['train', '--session', 'latest', '--data-dir', dataDir, '--timesteps', '20000', '--eval-episodes', '2', '--out', join(dir, 'v1'), '--register', 'loop', '--json']);
      await runCli([registerModels], ['models', 'deploy', 'loop', '1', '--data-dir', dataDir]);

      const hooks = await receiver();
      const webhooks = createWebhooks({ urls: [hooks.url], secret: 'k' });
      const queue = await openJobQueue({ dataDir, superviseIntervalSeconds: 5 });
      const events: LoopEvent[] = [];
      const actorEvents: ControllerEvent[] = [];
      // Regimes: sessions 0, 1 and 3 have an edge, session 2 has none. Session 2 runs in real time and is
      // stopped once the promoted model has traded in it for a while, so the reload happens mid-session.
      const regimes = [sim(60, 1, 'max'), sim(61, 1, 'max'), sim(62, 0, '1'), sim(63, 1, 'max')];
      let decisionsAfterReload = 0;
      try {
        const loop = await runLoop({
          queue,
          storage: { dataDir },
          modelsDir: join(dir, 'models'),
          name: 'loop',
          source: (index) => resolveSource(regimes[index]!),
          schedule: { sessions: 2 },
          retrain: { trainSessions: 1, evalSessions: 1, timesteps: 150_000, episodes: 200, threshold: 2 },
          seed: 0,
          webhooks,
          maxSessions: 4,
          onEvent: (e) => {
            events.push(e);
            // A refusal or failure of the first cycle would leave session 2 running for 15 minutes.
            if (e.type !== 'retrain-started' && e.type !== 'session' && e.index === 0 && !(e.type === 'decision' && e.decision.promoted)) void loop.controller.stop();
          },
          onActorEvent: (e) => {
            actorEvents.push(e);
            if (actorEvents.some((a) => a.type === 'reload') && e.type === 'decision' && ++decisionsAfterReload === 200) void loop.controller.stop();
          },
        });
        const summary = await loop.done;
        expect(summary.sessions).toBe(4);
        expect(summary.retrainFailures).toBe(0);
        const [first, second] = summary.decisions;
        // Cycle 1: trained on session 0 (edge), evaluated on session 1 (edge) against v1.
        expect(first).toMatchObject({ candidate: { version: 2 }, deployed: { version: 1 }, promoted: true, episodes: 200 });
        expect(first!.pairedT).toBeGreaterThan(2);
        expect(first!.jobIds).toHaveLength(3);
        // Cycle 2: trained on session 2 (no edge), evaluated on session 3 (edge) against v2: refused.
        expect(second).toMatchObject({ candidate: { version: 3 }, deployed: { version: 2 }, promoted: false });
        expect(second!.pairedT).toBeLessThan(2);

        const registry = createModelRegistry({ db: queue.db });
        expect((await registry.deployment('loop'))?.model.version).toBe(2);
        expect((await registry.list('loop')).find((m) => m.version === 3)?.status).toBe('archived');
        expect((await listDecisions(queue, 'loop')).map((d) => [d.candidate.version, d.promoted])).toEqual([
          [3, false],
          [2, true],
        ]);

        // The actor picked v2 up in session 2 without missing a tick, and the audit replays that session exactly.
        const sessions = events.filter((e): e is Extract<LoopEvent, { type: 'session' }> => e.type === 'session');
        const reloaded = sessions[2]!.report;
        expect(reloaded.actor.modelVersions).toEqual([1, 2]);
        expect(reloaded.actor.reloads).toHaveLength(1);
        expect(reloaded.actor.reloads[0]).toMatchObject({ version: 2, missedTicks: 0 });
        expect(sessions[3]!.report.actor.modelVersions).toEqual([2]);
        const audit = await runAudit(queue.db, { session: reloaded.sessionId, episode: String(reloaded.episodeId) });
        expect(audit.mismatches).toBe(0);
        expect(audit.decisions).toBe(reloaded.actor.decisions);

        await webhooks.close();
        const kinds = hooks.received.map((r) => r.headers['x-kflow-event']);
        expect(kinds).toEqual(['promotion', 'refusal']);
        for (const r of hooks.received) {
          const [t, v1] = String(r.headers['x-kflow-signature']).split(',');
          const ts = t!.slice(2);
          expect(v1).toBe(`v1=${createHmac('sha256', 'k').update(`${ts}.${r.body}`).digest('hex')}`);
        }
      } finally {
        await webhooks.close();
        await hooks.close();
        await queue.close();
      }
    },
    15 * 60_000,
  );

  it('sends a collector failure to the webhooks and ends with its error', () =>
    withFaultSetup('faults', async ({ hooks, webhooks, options }) => {
      const failing = await runLoop(options('f', () => resolveSource({ ...sim(71, 1, 'max'), source: 'nowhere' })));
      await expect(failing.done).rejects.toThrow(/--source must be kalshi, demo, sim or a ws:\/\/ URL/);
      await webhooks.close();
      expect(hooks.received.map((r) => r.headers['x-kflow-event'])).toEqual(['collector_failure']);
      expect(JSON.parse(hooks.received[0]!.body)).toMatchObject({ kind: 'collector_failure', data: { name: 'f', session: 0 } });
    }));

  it('sends a loss-limit stop to the webhooks', () =>
    withFaultSetup('halt', async ({ queue, hooks, webhooks, options }) => {
      // A model that always buys YES at once: its first fill costs half the spread and a fee, below a 1 µ$ loss limit.
      const env = createKalshiEnv({ sessions: createMarketPool([createSyntheticSession({ seed: 1, markets: 1, eventsPerMarket: 2000, settle: true })]), ...KALSHI_PPO.env });
      const policy = new ActorCritic({ observationSize: env.observationSpace.shape[0]!, nvec: [env.actionSpace.n], featureSetVersion: env.setup.featureSetVersion });
      policy.init(createRng(0));
      const last = policy.policyNet.layerCount - 1;
      policy.policyNet.layerWeights(last).fill(0);
      policy.policyNet.layerBias(last)[env.actions.actions.findIndex((a) => a.kind === 'BUY_YES_NOW')] = 10;
      const optimizer = createAdam({ sizes: policy.parameters().map((p) => p.length), learningRate: 0 }).exportState();
      const result = { algorithm: 'ppo' as const, policy, hyperparameters: {}, seed: 0, timesteps: 0, episodes: 0, updates: 0, meanEpisodicReturn: Number.NaN, seconds: 0, optimizer };
      await writeCheckpoint(join(dir, 'buyer'), createCheckpoint(result, { envId: 'kalshi', trading: env.setup }));
      await registerCheckpoint(queue.db, join(dir, 'buyer'), 'h', { deploy: true });

      const source = () => resolveSource({ ...sim(72, 1, 'max'), simMarkets: '2', simMinutes: '5' });
      const loop = await runLoop({ ...options('h', source), risk: { sessionLossLimitMicros: 1 }, maxSessions: 1 });
      const summary = await loop.done;
      expect(summary.sessions).toBe(1);
      expect(loop.controller.last?.actor.halted).toBe(true);
      await webhooks.close();
      expect(hooks.received.map((r) => r.headers['x-kflow-event'])).toEqual(['loss_limit_stop']);
      expect(JSON.parse(hooks.received[0]!.body)).toMatchObject({ kind: 'loss_limit_stop', data: { name: 'h', limit: 0.000001 } });
    }), 120_000);
});
