/**
 * The control API's wire contract: request bodies (zod schemas, validated by the server), response and
 * stream message shapes (types shared with the dashboard). Money in dollars (numbers), prices as
 * probabilities in [0, 1] with their exact price units beside them, counts in contracts: the API is for
 * people and browsers; the exact integer units stay inside the packages.
 */
import { z } from 'zod';

// ── Requests ────────────────────────────────────────────────────────────────────────────────────────

export const ActorModeBody = z.object({ mode: z.string().min(1) }).strict();

export const ActorStartBody = z
  .object({
    /** Registry name whose deployment to trade (default: the one the server was started with). */
    model: z.string().min(1).optional(),
  })
  .strict();

export const TrainingStartBody = z
  .object({
    /** Recorded sessions to train on (ids; default: the newest completed one). */
    sessions: z.array(z.string().min(1)).min(1).optional(),
    timesteps: z.number().int().min(2048).max(50_000_000),
    seed: z.number().int().min(0).default(0),
    /** Register the checkpoint under this name when training ends. */
    register: z.string().min(1).max(100).optional(),
  })
  .strict();

export const TrainingStopBody = z.object({ id: z.string().min(1) }).strict();

export const ActionsQuery = z.object({
  after: z.coerce.number().int().min(-1).default(-1),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});

// ── Responses ───────────────────────────────────────────────────────────────────────────────────────

/** The model that made a decision (the actor's current one, a logged decision's, an episode's latest). */
export interface DecisionModelView {
  readonly id: string;
  readonly name: string;
  readonly version: number;
}

/** Every error: `{ error: { code, message, field? } }` with the HTTP status. */
export interface ApiError {
  readonly error: { readonly code: string; readonly message: string; readonly field?: string };
}

export interface LevelView {
  /** YES-leg price as a probability, and its exact units (1/10,000 $). */
  readonly price: number;
  readonly priceUnits: number;
  /** Contracts. */
  readonly size: number;
}

/** One market's book, YES view: bids (best first) and asks (best first, derived from NO bids). */
export interface BookView {
  readonly ticker: string;
  readonly version: number;
  readonly stale: boolean;
  readonly bids: readonly LevelView[];
  readonly asks: readonly LevelView[];
  readonly bestBid: number | null;
  readonly bestAsk: number | null;
  readonly spread: number | null;
  readonly mid: number | null;
  /** Exchange time of the latest event the server saw, ms. */
  readonly tsMs: number | null;
}

export interface MarketRow {
  readonly ticker: string;
  readonly bestBid: number | null;
  readonly bestAsk: number | null;
  readonly spread: number | null;
  readonly stale: boolean;
  /** Contracts, + YES / − NO. */
  readonly position: number;
  /** Dollars, marked to mid, fees included, since the market's first decision. */
  readonly pnl: number;
  readonly lastAction: string | null;
  readonly modelVersion: number | null;
  readonly decisions: number;
  readonly settled: boolean;
}

export interface ModelView {
  readonly id: number;
  readonly name: string;
  readonly version: number;
  readonly status: string;
  readonly architecture: string;
  readonly featureSetVersion: string;
  readonly checkpointPath: string;
  readonly performance: Readonly<Record<string, unknown>>;
  readonly createdMs: number;
}

export interface StatusView {
  readonly uptimeMs: number;
  readonly mode: 'paper';
  readonly storage: string;
  readonly collector: {
    readonly running: boolean;
    readonly connected: boolean;
    readonly sessionId: string | null;
    readonly frames: number;
    readonly gaps: number;
    readonly reconnects: number;
  };
  readonly actor: {
    readonly running: boolean;
    readonly model: DecisionModelView | null;
    readonly decisions: number;
    readonly markets: number;
    readonly halted: boolean;
    readonly episodeId: number | null;
    readonly refusals: readonly { readonly version: number; readonly reason: string }[];
    readonly reloads: readonly { readonly version: number; readonly loadMs: number; readonly deployToFirstDecisionMs: number | null }[];
  };
  readonly queues: {
    readonly marketData: { readonly pending: number; readonly written: number; readonly lagMs: number } | null;
    readonly actions: { readonly pending: number; readonly written: number; readonly lagMs: number } | null;
  };
  readonly streams: { readonly clients: number; readonly disconnectedSlow: number };
  readonly training: { readonly running: number };
}

export interface MetricsView {
  /** Dollars over all markets, marked to mid, fees included. */
  readonly pnl: number;
  /** Mean / standard deviation of the per-market PnL (0 with fewer than two markets or no spread). */
  readonly sharpe: number;
  /** Share of markets with a positive PnL, among those that traded. */
  readonly winRate: number;
  readonly decisions: number;
  readonly orders: number;
  readonly fills: number;
  readonly fees: number;
  readonly decisionLatencyMicros: { readonly p50: number | null; readonly p99: number | null; readonly max: number | null };
  readonly queueDepths: { readonly marketData: number; readonly actions: number };
}

export interface TrainingJobView {
  readonly id: string;
  /** `server`: a job of this server's own (`POST /rl/training/start`); `queue`: a job of the job queue, run by any worker. */
  readonly source: 'server' | 'queue';
  /** `queued`: a queue job waiting for a worker (or for its retry). */
  readonly state: 'queued' | 'running' | 'completed' | 'failed' | 'stopped';
  readonly sessions: readonly string[];
  readonly timesteps: number;
  readonly seed: number;
  readonly startedMs: number;
  readonly endedMs: number | null;
  /** The latest progress line. */
  readonly progress: TrainingProgress | null;
  readonly result: Readonly<Record<string, unknown>> | null;
  readonly error: string | null;
}

export interface TrainingProgress {
  readonly timesteps: number;
  readonly sps: number | null;
  readonly episodeReturn: number | null;
  readonly losses: Readonly<Record<string, number>>;
}

// ── More responses ──────────────────────────────────────────────────────────────────────────────────

export interface MarketsResponse {
  readonly markets: readonly MarketRow[];
}

/** `GET /rl/positions`: Kalshi's `market_positions` plus the PnL marked to mid. */
export interface PositionRow {
  readonly ticker: string;
  readonly position_fp: string;
  readonly market_exposure_dollars: string;
  readonly realized_pnl_dollars: string;
  readonly fees_paid_dollars: string;
  readonly total_traded_dollars: string;
  readonly resting_orders_count: number;
  readonly last_updated_ts: string;
  readonly pnl: number;
}

/** A model as a retrain decision names it. */
export interface ModelRef {
  readonly id: number;
  readonly version: number;
}

/** One retrain cycle's gate decision (`kflow retrain`, `kflow loop`): promoted or refused, with its figures. */
export interface RetrainDecisionView {
  readonly name: string;
  readonly candidate: ModelRef;
  /** The model that was trading (null: none was deployed, so the candidate had to beat holding). */
  readonly deployed: ModelRef | null;
  readonly promoted: boolean;
  /** t of the mean per-episode PnL difference (candidate − deployed), clustered by market. */
  readonly pairedT: number;
  /** Mean PnL per episode after fees, dollars, on the evaluation sessions. */
  readonly candidatePnl: number;
  readonly deployedPnl: number;
  readonly episodes: number;
  /** Markets the episodes came from (the t-test's clusters). */
  readonly markets: number;
  readonly threshold: number;
  readonly trainSessions: readonly string[];
  readonly evalSessions: readonly string[];
  readonly jobIds: readonly string[];
  /** Milliseconds since the epoch when the decision was made. */
  readonly decidedMs: number;
}

export interface SessionRow {
  readonly id: string;
  readonly startedMs: number;
  readonly endedMs: number | null;
  readonly environment: string;
  readonly wsUrl: string;
  readonly markets: readonly string[];
  readonly status: string;
  readonly counts: { readonly frames: number; readonly snapshots: number; readonly deltas: number; readonly trades: number; readonly gaps: number; readonly malformed: number; readonly reconnects: number };
  readonly stored: { readonly snapshots: number; readonly deltas: number; readonly trades: number; readonly lifecycle: number };
}

export interface EpisodeRow {
  readonly id: number;
  readonly modelId: number | null;
  readonly market: string;
  readonly markets: readonly string[] | null;
  readonly mode: string;
  readonly sessionId: string | null;
  readonly startedMs: number;
  readonly endedMs: number | null;
  readonly totalReward: number;
  readonly steps: number;
  readonly finalPositionCenti: number | null;
  readonly summary: Readonly<Record<string, unknown>> | null;
  /** The model of the latest logged decision, or null before the first. */
  readonly latestModel: DecisionModelView | null;
}

/** One stored decision of `GET /rl/episodes/:id/actions` (exact integer units, as stored). */
export interface EpisodeAction {
  readonly step: number;
  readonly market: string;
  readonly marketStep: number;
  readonly tsMs: number;
  readonly action: number;
  readonly policyAction: number | null;
  readonly override: string | null;
  readonly executed: boolean;
  readonly order: { readonly side: 'bid' | 'ask'; readonly priceUnits: number; readonly countCenti: number; readonly timeInForce?: string } | null;
  readonly reject: string | null;
  readonly model: DecisionModelView;
  readonly latencyMicros: number;
  readonly outcome: {
    readonly fills: readonly { readonly side: 'bid' | 'ask'; readonly priceUnits: number; readonly countCenti: number; readonly isTaker: boolean }[];
    readonly positionCenti: number;
    readonly pnlMicros: number;
    readonly feesMicros: number;
  } | null;
}

export interface EpisodeActionsResponse {
  readonly actions: readonly EpisodeAction[];
  readonly next: number | null;
}

export interface Deployment {
  readonly id: number;
  readonly version: number;
  readonly action: string;
  readonly deployedMs: number;
}

export interface ModelDetailResponse {
  readonly model: ModelView;
  readonly deployments: readonly Deployment[];
}

export interface DeployResponse {
  readonly deployment: { readonly id: number; readonly action: string; readonly deployedMs: number; readonly model: ModelView };
}

// ── Streams (WebSocket, JSON text frames) ───────────────────────────────────────────────────────────

/** Client → `/rl/ws/orderbook`. `tickers: ['*']` follows every market. */
export type OrderbookCommand = { readonly type: 'subscribe' | 'unsubscribe'; readonly tickers: readonly string[] };

/**
 * `/rl/ws/orderbook`: a snapshot on subscribe, then the latest book at most `maxPerSecond` times per
 * market. Every frame of every stream is a JSON array of messages.
 */
export type OrderbookMessage =
  | { readonly type: 'snapshot'; readonly book: BookView }
  | { readonly type: 'book'; readonly book: BookView }
  | { readonly type: 'subscribed'; readonly tickers: readonly string[]; readonly maxPerSecond: number }
  | { readonly type: 'error'; readonly message: string };

/**
 * `/rl/ws/actions`: every decision and every fill. Each frame is a JSON array of these messages (the ones
 * produced since the previous frame, oldest first; frames come at most every 50 ms).
 */
export type ActionMessage =
  | {
      readonly type: 'decision';
      readonly market: string;
      readonly step: number;
      readonly tsMs: number;
      readonly action: string;
      readonly policyAction: string | null;
      readonly override: string | null;
      readonly executed: boolean;
      readonly order: { readonly side: 'bid' | 'ask'; readonly price: number; readonly count: number; readonly timeInForce: string } | null;
      readonly reject: string | null;
      readonly modelVersion: number;
      readonly latencyMicros: number;
    }
  | { readonly type: 'fill'; readonly market: string; readonly tsMs: number; readonly side: 'bid' | 'ask'; readonly price: number; readonly count: number; readonly isTaker: boolean; readonly fee: number }
  | { readonly type: 'event'; readonly event: 'reload' | 'refused' | 'halt' | 'settled' | 'error' | 'started' | 'stopped'; readonly detail: Readonly<Record<string, unknown>> };

/** `/rl/ws/training`: progress of every training job, then its result. Frames are JSON arrays, as for actions. */
export type TrainingMessage =
  | { readonly type: 'progress'; readonly jobId: string; readonly progress: TrainingProgress }
  | { readonly type: 'episode'; readonly jobId: string; readonly timesteps: number; readonly episodeReturn: number }
  /** In-sample evaluation after training: deterministic episodes of the training sessions, PnL in dollars. */
  | { readonly type: 'eval'; readonly jobId: string; readonly episodes: number; readonly meanPnl: number; readonly sharpe: number; readonly winRate: number }
  | { readonly type: 'status'; readonly job: TrainingJobView };
