/**
 * A training run in a worker thread (never on the event loop that serves the API and runs the actor):
 * PPO with the recommended Kalshi setup on the sessions it is given, progress posted as it goes, the
 * checkpoint posted at the end.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type Checkpoint, type TrainingEvent, createCheckpoint, evaluateKalshi, trainPpo, KALSHI_PPO } from '@kflow/agents';
import { SyncVectorEnv, createKalshiEnv, createMarketPool } from '@kflow/env';
import { type SessionData, systemClock } from '@kflow/orderbook';

/** What the parent sends. */
export interface TrainingWorkerInput {
  readonly sessions: readonly SessionData[];
  readonly timesteps: number;
  readonly seed: number;
}

/** What the worker posts. */
export type TrainingWorkerMessage =
  | { readonly kind: 'progress'; readonly timesteps: number; readonly metrics: Readonly<Record<string, number>> }
  | { readonly kind: 'episode'; readonly timesteps: number; readonly episodeReturn: number }
  | { readonly kind: 'eval'; readonly episodes: number; readonly meanPnl: number; readonly sharpe: number; readonly winRate: number }
  | { readonly kind: 'done'; readonly checkpoint: Checkpoint; readonly result: Readonly<Record<string, unknown>> }
  | { readonly kind: 'failed'; readonly message: string };

const input = workerData as TrainingWorkerInput;
const EVAL_EPISODES = 20;
const post = (message: TrainingWorkerMessage, transfer: ArrayBuffer[] = []) => parentPort!.postMessage(message, transfer);

try {
  const pool = createMarketPool(input.sessions);
  const make = () => createKalshiEnv({ sessions: pool, ...KALSHI_PPO.env });
  const env = make();
  let lastPost = 0;
  const onEvent = (event: TrainingEvent) => {
    if (event.kind === 'episode') {
      post({ kind: 'episode', timesteps: event.timesteps, episodeReturn: event.metrics['charts/episodic_return']! });
      return;
    }
    const now = systemClock.now();
    if (now - lastPost < 250 && event.timesteps < input.timesteps) return;
    lastPost = now;
    post({ kind: 'progress', timesteps: event.timesteps, metrics: event.metrics });
  };
  const result = trainPpo({
    envs: new SyncVectorEnv(Array.from({ length: KALSHI_PPO.nEnvs }, () => make)),
    totalTimesteps: input.timesteps,
    seed: input.seed,
    clock: systemClock,
    onEvent,
    featureSetVersion: env.metadata.featureSetVersion,
    ...KALSHI_PPO.ppo,
    policy: KALSHI_PPO.policy,
  });
  // Deterministic episodes of the training sessions (in-sample: the figure says how well it fits them).
  const evaluation = evaluateKalshi(result.policy, make(), EVAL_EPISODES, { seed: input.seed + 10_000 });
  post({ kind: 'eval', episodes: evaluation.episodes, meanPnl: evaluation.meanPnl, sharpe: evaluation.sharpe, winRate: evaluation.winRate });
  const checkpoint = createCheckpoint(result, {
    envId: 'kalshi',
    trading: env.setup,
    training: { sessions: input.sessions.map((s) => s.id), kalshiEnv: KALSHI_PPO.env },
  });
  const { weights, optimizer } = checkpoint;
  post(
    {
      kind: 'done',
      checkpoint,
      result: { timesteps: result.timesteps, episodes: result.episodes, seconds: result.seconds, meanEpisodicReturn: result.meanEpisodicReturn },
    },
    [weights.buffer as ArrayBuffer, ...(optimizer === undefined ? [] : [optimizer.buffer as ArrayBuffer])],
  );
} catch (error) {
  post({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
}
