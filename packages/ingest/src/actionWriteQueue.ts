import { tableSpec } from './queryable';
import { WriteQueue, type WriteQueueOptions } from './writeQueue';

/** The `trading_actions` table: one row per decision, keyed by (episode, step). */
export const ACTION_TABLE = tableSpec('trading_actions', {
  episode_id: 'integer',
  step: 'integer',
  ts_ms: 'bigint',
  market: 'text',
  action: 'integer',
  details: 'jsonb',
  observation_hash: 'text',
  reward: 'double precision',
  executed: 'boolean',
  execution_result: 'jsonb',
});

/** One decision of a training or paper episode; (episodeId, step) is its unique key. */
export interface TradingActionRecord {
  readonly episodeId: number;
  readonly step: number;
  readonly tsMs: number;
  readonly market: string;
  /** The discrete action index. */
  readonly action: number;
  readonly details?: Readonly<Record<string, unknown>>;
  readonly observationHash?: string;
  readonly reward?: number | null;
  readonly executed: boolean;
  readonly executionResult?: unknown;
}

/**
 * Batches trading actions from the paper trading client or the trainer (see `WriteQueue` for the
 * batching, retry and spill guarantees).
 *
 * @example
 * const actions = new ActionWriteQueue({ db });
 * actions.enqueue({ episodeId, step: 0, tsMs, market: 'KXFED-26DEC-T4.00', action: 3, executed: true });
 */
export class ActionWriteQueue extends WriteQueue {
  constructor(options: WriteQueueOptions) {
    super([ACTION_TABLE], options);
  }

  /** Queues one decision. Synchronous, O(1). */
  enqueue(a: TradingActionRecord): void {
    this.push(0, [
      a.episodeId,
      a.step,
      a.tsMs,
      a.market,
      a.action,
      JSON.stringify(a.details ?? {}),
      a.observationHash ?? null,
      a.reward ?? null,
      a.executed,
      a.executionResult === undefined ? null : JSON.stringify(a.executionResult),
    ]);
  }
}
