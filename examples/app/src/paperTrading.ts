import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import {
  type Actor,
  type ActorEvent,
  type ActorModel,
  type ActorRiskLimits,
  type ActorSummary,
  type ModelSource,
  createActor,
  createRegistryModelSource,
  createStaticModelSource,
} from '@kflow/actor';
import { type InferencePolicy, loadPolicy, readCheckpoint } from '@kflow/agents';
import {
  ActionWriteQueue,
  type Collector,
  type CollectorStatus,
  type IngestDatabase,
  type KalshiSigner,
  type SessionEnvironment,
  type WriteQueueMetrics,
  createCollector,
  createModelRegistry,
  finishEpisode,
  startEpisode,
} from '@kflow/ingest';
import { type Clock, createRng, createSharedOrderbookState, systemClock } from '@kflow/orderbook';
import type { TradingSetup } from '@kflow/paper';
import { userPath } from './flags';

/** A checkpoint directory read into what the actor trades with (its policy and its trading setup). */
export async function loadTradingModel(path: string): Promise<{ policy: InferencePolicy; setup: TradingSetup }> {
  const policy = loadPolicy(await readCheckpoint(path));
  if (policy.trading === undefined) {
    throw new Error(`${path} has no trading setup (it was not trained on the Kalshi env by this version of kflow): retrain it with \`kflow train\``);
  }
  return { policy, setup: policy.trading };
}

/** The id a checkpoint directory gets in decision logs (so the audit can load it again). */
export function directoryModelId(path: string): string {
  return `dir:${userPath(path)}`;
}

async function isCheckpointDir(path: string): Promise<boolean> {
  try {
    return (await stat(join(path, 'manifest.json'))).isFile();
  } catch {
    return false;
  }
}

/**
 * `--model NAME|DIR`: a checkpoint directory (traded as is, no hot reload) or a registry name (its
 * current deployment, then every deploy and rollback).
 */
export async function resolveModelSource(db: IngestDatabase, model: string): Promise<ModelSource> {
  if (await isCheckpointDir(userPath(model))) {
    const { policy, setup } = await loadTradingModel(userPath(model));
    const actorModel: ActorModel = { id: directoryModelId(model), name: policy.manifest.envId ?? 'checkpoint', version: 0, policy, setup };
    return createStaticModelSource(actorModel);
  }
  return createRegistryModelSource({ registry: createModelRegistry({ db }), name: model, load: loadTradingModel });
}

/** Loads the policy of a decision's model id again (registry id or checkpoint directory). */
export async function loadModelById(db: IngestDatabase, id: string): Promise<{ policy: InferencePolicy; setup: TradingSetup }> {
  if (id.startsWith('dir:')) return loadTradingModel(id.slice(4));
  const record = await createModelRegistry({ db }).get(Number(id));
  return loadTradingModel(record.checkpointPath);
}

export interface PaperSessionOptions {
  readonly db: IngestDatabase;
  /** Directory for the write queues' spill files. */
  readonly spillDir: string;
  readonly url: string;
  readonly signer?: KalshiSigner;
  readonly environment: SessionEnvironment;
  /** Markets to subscribe to and trade. */
  readonly markets: readonly string[];
  readonly models: ModelSource;
  readonly risk?: ActorRiskLimits;
  readonly seed: number;
  readonly onEvent?: (event: ActorEvent) => void;
  readonly clock?: Clock;
}

/** What a paper session measured (the `--json` summary of `kflow paper`). */
export interface PaperReport {
  readonly sessionId: string;
  readonly episodeId: number;
  readonly actor: ActorSummary;
  readonly collector: CollectorStatus;
  readonly actions: WriteQueueMetrics;
}

export interface PaperSession {
  readonly actor: Actor;
  readonly collector: Collector;
  readonly sessionId: string;
  readonly episodeId: number;
  /** The action log's write queue (rows pending, written, lag). */
  actionMetrics(): WriteQueueMetrics;
  /** Stops the collector (no more frames), then the actor (open orders canceled), flushes both queues and finishes the episode. */
  stop(): Promise<PaperReport>;
}

/**
 * Collector and actor in one process over one `SharedOrderbookState`: the collector records the session
 * (the audit replays it), the actor trades it on paper from each market's first snapshot and logs every
 * decision into the episode. Closes everything it opened if it fails to start.
 */
export async function startPaperSession(o: PaperSessionOptions): Promise<PaperSession> {
  const clock = o.clock ?? systemClock;
  const state = createSharedOrderbookState();
  const collector = createCollector({
    url: o.url,
    ...(o.signer === undefined ? {} : { signer: o.signer }),
    markets: o.markets,
    db: o.db,
    state,
    environment: o.environment,
    queue: { spillPath: join(o.spillDir, 'kflow-spill.jsonl') },
    rng: createRng(o.seed),
    clock,
  });
  const episodeId = await startEpisode(o.db, { market: '*', markets: o.markets, mode: 'paper', startedMs: clock.now(), sessionId: collector.sessionId });
  const actions = new ActionWriteQueue({ db: o.db, spillPath: join(o.spillDir, 'kflow-actions-spill.jsonl'), clock });
  const actor = createActor({
    mode: 'paper',
    state,
    models: o.models,
    markets: o.markets,
    rng: createRng(o.seed + 1),
    log: actions,
    episodeId,
    clock,
    ...(o.risk === undefined ? {} : { risk: o.risk }),
    ...(o.onEvent === undefined ? {} : { onEvent: o.onEvent }),
  });
  try {
    await actor.start(); // before the collector: the actor sees every market from its first snapshot
    collector.client.addSink((frame) => actor.handleFrame(frame));
    await collector.start();
  } catch (error) {
    await actor.stop();
    await collector.stop().catch(() => {});
    await actions.close();
    await finishEpisode(o.db, episodeId, { endedMs: clock.now(), totalReward: 0, steps: 0, finalPositionCenti: 0, summary: { failed: String(error) } });
    throw error;
  }
  return {
    actor,
    collector,
    sessionId: collector.sessionId,
    episodeId,
    actionMetrics: () => actions.metrics,
    async stop() {
      const collected = await collector.stop();
      const summary = await actor.stop();
      const written = await actions.close();
      let position = 0;
      for (const m of actor.marketStatus()) position += Math.abs(m.positionCenti);
      await finishEpisode(o.db, episodeId, {
        endedMs: clock.now(),
        totalReward: summary.pnlMicros / 1e6,
        steps: summary.decisions,
        finalPositionCenti: position,
        summary: { ...summary, sessionId: collector.sessionId },
      });
      return { sessionId: collector.sessionId, episodeId, actor: summary, collector: collected, actions: written };
    },
  };
}
