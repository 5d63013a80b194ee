import { ingestError } from './errors';
import { selectRows, toInt, toIntOrNull, type Queryable } from './queryable';

/** Episodes are training or paper: kflow never trades live. */
export type TradingMode = 'training' | 'paper';

/** Options of {@link startEpisode}. */
export interface StartEpisodeOptions {
  readonly modelId?: number;
  /** The market traded, or `'*'` for an episode over several (listed in `markets`). */
  readonly market: string;
  readonly markets?: readonly string[];
  readonly mode: TradingMode;
  readonly startedMs: number;
  /** The recorded session whose market data the episode traded on (a paper run's collector session). */
  readonly sessionId?: string;
}

/** Options of {@link finishEpisode}. */
export interface FinishEpisodeOptions {
  readonly endedMs: number;
  readonly totalReward: number;
  readonly steps: number;
  readonly finalPositionCenti: number;
  /** What the run reports about itself (counts, PnL, models used, reloads ...), stored as JSON. */
  readonly summary?: Readonly<Record<string, unknown>>;
}

/** A stored episode. */
export interface EpisodeRecord {
  readonly id: number;
  readonly modelId: number | null;
  readonly market: string;
  readonly markets: readonly string[] | null;
  readonly mode: TradingMode;
  readonly sessionId: string | null;
  readonly startedMs: number;
  readonly endedMs: number | null;
  readonly totalReward: number;
  /** Decisions of the episode: as finished, or, while it runs, the decisions its action log holds so far. */
  readonly steps: number;
  readonly finalPositionCenti: number | null;
  readonly summary: Readonly<Record<string, unknown>> | null;
  /** The model of the latest logged decision (hot reloads change it mid-episode), or null before the first. */
  readonly latestModel: EpisodeModel | null;
}

/** The model a logged decision names. */
export interface EpisodeModel {
  readonly id: string;
  readonly name: string;
  readonly version: number;
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
    'INSERT INTO trading_episodes (model_id, market, markets, mode, started_ms, session_id) VALUES ($1, $2, $3::text[], $4, $5, $6) RETURNING id',
    [options.modelId ?? null, options.market, options.markets === undefined ? null : [...options.markets], mode, options.startedMs, options.sessionId ?? null],
  );
  return toInt(rows[0]!.id);
}

/** Records an episode's outcome. */
export async function finishEpisode(db: Queryable, episodeId: number, options: FinishEpisodeOptions): Promise<void> {
  await db.query(
    'UPDATE trading_episodes SET ended_ms = $2, total_reward = $3, steps = $4, final_position_centi = $5, summary = $6::jsonb WHERE id = $1',
    [episodeId, options.endedMs, options.totalReward, options.steps, options.finalPositionCenti, options.summary === undefined ? null : JSON.stringify(options.summary)],
  );
}

interface EpisodeRow {
  id: unknown;
  model_id: unknown;
  market: string;
  markets: string[] | null;
  mode: TradingMode;
  session_id: string | null;
  started_ms: unknown;
  ended_ms: unknown;
  total_reward: number;
  steps: unknown;
  final_position_centi: unknown;
  summary: Record<string, unknown> | null;
  latest_model: unknown;
  logged_steps: unknown;
}

// A running episode's figures come from its action log: the latest decision (one backward step of the
// (episode_id, step) key) names the model, and steps are numbered from 0 without gaps.
const SELECT_EPISODES = `SELECT e.*,
  (SELECT a.details->'model' FROM trading_actions a WHERE a.episode_id = e.id ORDER BY a.step DESC LIMIT 1) AS latest_model,
  CASE WHEN e.ended_ms IS NULL THEN (SELECT max(a.step) + 1 FROM trading_actions a WHERE a.episode_id = e.id) END AS logged_steps
FROM trading_episodes e`;

function toModel(v: unknown): EpisodeModel | null {
  if (v === null || typeof v !== 'object') return null;
  const m = v as Record<string, unknown>;
  return typeof m['id'] === 'string' && typeof m['name'] === 'string' && typeof m['version'] === 'number' ? { id: m['id'], name: m['name'], version: m['version'] } : null;
}

function toEpisode(r: EpisodeRow): EpisodeRecord {
  return {
    id: toInt(r.id),
    modelId: toIntOrNull(r.model_id),
    market: r.market,
    markets: r.markets,
    mode: r.mode,
    sessionId: r.session_id,
    startedMs: toInt(r.started_ms),
    endedMs: toIntOrNull(r.ended_ms),
    totalReward: Number(r.total_reward),
    steps: r.ended_ms === null ? (toIntOrNull(r.logged_steps) ?? 0) : toInt(r.steps),
    finalPositionCenti: toIntOrNull(r.final_position_centi),
    summary: r.summary,
    latestModel: toModel(r.latest_model),
  };
}

/**
 * Stored episodes, newest first, optionally of one mode or one session.
 *
 * @example
 * const [latest] = await listEpisodes(db, { mode: 'paper' });
 */
export async function listEpisodes(db: Queryable, filter: { readonly mode?: TradingMode; readonly sessionId?: string } = {}): Promise<EpisodeRecord[]> {
  const rows = await selectRows<EpisodeRow>(
    db,
    `${SELECT_EPISODES} WHERE ($1::text IS NULL OR mode = $1) AND ($2::text IS NULL OR session_id = $2) ORDER BY id DESC`,
    [filter.mode ?? null, filter.sessionId ?? null],
  );
  return rows.map(toEpisode);
}

/** One stored episode. Throws `EPISODE_NOT_FOUND`. */
export async function getEpisode(db: Queryable, id: number): Promise<EpisodeRecord> {
  const rows = await selectRows<EpisodeRow>(db, `${SELECT_EPISODES} WHERE id = $1`, [id]);
  if (rows[0] === undefined) throw ingestError('EPISODE_NOT_FOUND', `no episode with id ${id}`, { details: { id } });
  return toEpisode(rows[0]);
}

/** A stored action row (see `ActionWriteQueue`), JSON columns parsed. */
export interface StoredAction {
  readonly episodeId: number;
  readonly step: number;
  readonly tsMs: number;
  readonly market: string;
  readonly action: number;
  readonly details: Readonly<Record<string, unknown>>;
  readonly observationHash: string | null;
  readonly reward: number | null;
  readonly executed: boolean;
  readonly executionResult: unknown;
}

/**
 * An episode's action rows in step order, `limit` from `afterStep` (paging; default all).
 *
 * @example
 * const rows = await loadEpisodeActions(db, episodeId);
 */
export async function loadEpisodeActions(
  db: Queryable,
  episodeId: number,
  page: { readonly afterStep?: number; readonly limit?: number } = {},
): Promise<StoredAction[]> {
  const rows = await selectRows<{
    episode_id: unknown;
    step: unknown;
    ts_ms: unknown;
    market: string;
    action: unknown;
    details: Record<string, unknown>;
    observation_hash: string | null;
    reward: number | null;
    executed: boolean;
    execution_result: unknown;
  }>(
    db,
    'SELECT * FROM trading_actions WHERE episode_id = $1 AND step > $2 ORDER BY step LIMIT $3',
    [episodeId, page.afterStep ?? -1, page.limit ?? 2_147_483_647],
  );
  return rows.map((r) => ({
    episodeId: toInt(r.episode_id),
    step: toInt(r.step),
    tsMs: toInt(r.ts_ms),
    market: r.market,
    action: toInt(r.action),
    details: r.details,
    observationHash: r.observation_hash,
    reward: r.reward === null ? null : Number(r.reward),
    executed: r.executed,
    executionResult: r.execution_result,
  }));
}
