import { ingestError } from './errors';
import { selectRows, toInt, type Queryable } from './queryable';

/** Episodes are training or paper: kflow never trades live. */
export type TradingMode = 'training' | 'paper';

export interface StartEpisodeOptions {
  readonly modelId?: number;
  readonly market: string;
  readonly mode: TradingMode;
  readonly startedMs: number;
}

export interface FinishEpisodeOptions {
  readonly endedMs: number;
  readonly totalReward: number;
  readonly steps: number;
  readonly finalPositionCenti: number;
}

/**
 * Records the start of a trading episode and returns its id (the key its actions reference).
 * Any mode other than `training` or `paper` is refused with `LIVE_MODE_FORBIDDEN`.
 *
 * @example
 * const id = await startEpisode(db, { market: 'KXFED-26DEC-T4.00', mode: 'paper', startedMs: clock.now() });
 */
export async function startEpisode(db: Queryable, options: StartEpisodeOptions): Promise<number> {
  const mode: string = options.mode;
  if (mode !== 'training' && mode !== 'paper') {
    throw ingestError('LIVE_MODE_FORBIDDEN', `episode mode must be 'training' or 'paper', got '${mode}'`);
  }
  const rows = await selectRows<{ id: unknown }>(
    db,
    'INSERT INTO trading_episodes (model_id, market, mode, started_ms) VALUES ($1, $2, $3, $4) RETURNING id',
    [options.modelId ?? null, options.market, mode, options.startedMs],
  );
  return toInt(rows[0]!.id);
}

/** Records an episode's outcome. */
export async function finishEpisode(db: Queryable, episodeId: number, options: FinishEpisodeOptions): Promise<void> {
  await db.query(
    'UPDATE trading_episodes SET ended_ms = $2, total_reward = $3, steps = $4, final_position_centi = $5 WHERE id = $1',
    [episodeId, options.endedMs, options.totalReward, options.steps, options.finalPositionCenti],
  );
}
