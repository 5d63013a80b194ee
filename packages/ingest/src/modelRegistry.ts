import { systemClock, type Clock } from '@kflow/orderbook';
import { ingestError } from './errors';
import { selectRows, toInt, toIntOrNull, type Queryable } from './queryable';
import { systemTimers, type Timers } from './timers';

export type ModelStatus = 'training' | 'ready' | 'deployed' | 'archived';

export interface ModelRecord {
  readonly id: number;
  readonly name: string;
  /** 1, 2, 3 ... per name, assigned at registration. */
  readonly version: number;
  readonly architecture: string;
  readonly checkpointPath: string;
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  readonly trainingConfig: Readonly<Record<string, unknown>>;
  readonly featureSetVersion: string;
  readonly status: ModelStatus;
  readonly performance: Readonly<Record<string, unknown>>;
  readonly parentId: number | null;
  readonly createdMs: number;
  readonly updatedMs: number;
}

export interface RegisterModelOptions {
  readonly name: string;
  readonly architecture: string;
  readonly checkpointPath: string;
  readonly featureSetVersion: string;
  readonly hyperparameters?: Readonly<Record<string, unknown>>;
  readonly trainingConfig?: Readonly<Record<string, unknown>>;
  readonly status?: ModelStatus;
  readonly performance?: Readonly<Record<string, unknown>>;
  readonly parentId?: number;
}

export interface WatchModelOptions {
  /** Which statuses count as loadable. Default `['ready', 'deployed']`. */
  readonly statuses?: readonly ModelStatus[];
  /** Poll period. Default 1,000 ms. */
  readonly intervalMs?: number;
  /** Only versions above this are reported (default: the first poll reports the current latest). */
  readonly afterVersion?: number;
  /** Called with the newest loadable model whenever its version rises (intermediate versions may be skipped). */
  readonly onModel: (model: ModelRecord) => void;
  /** Called when a poll fails; polling continues. */
  readonly onError?: (error: unknown) => void;
}

export interface ModelRegistry {
  register(options: RegisterModelOptions): Promise<ModelRecord>;
  get(id: number): Promise<ModelRecord>;
  list(name?: string): Promise<ModelRecord[]>;
  setStatus(id: number, status: ModelStatus): Promise<ModelRecord>;
  setPerformance(id: number, performance: Readonly<Record<string, unknown>>): Promise<ModelRecord>;
  /** The highest version of `name` whose status is one of `statuses` (default ready or deployed). */
  latest(name: string, statuses?: readonly ModelStatus[]): Promise<ModelRecord | undefined>;
  /** Polls for newer versions: the hot-reload source of the actor. */
  watch(name: string, options: WatchModelOptions): { stop(): void };
}

export interface ModelRegistryOptions {
  readonly db: Queryable;
  readonly clock?: Clock;
  readonly timers?: Timers;
}

const COLUMNS =
  'id, name, version, architecture, checkpoint_path, hyperparameters, training_config, feature_set_version, status, performance, parent_id, created_ms, updated_ms';

interface ModelRow {
  id: unknown;
  name: string;
  version: unknown;
  architecture: string;
  checkpoint_path: string;
  hyperparameters: Record<string, unknown>;
  training_config: Record<string, unknown>;
  feature_set_version: string;
  status: ModelStatus;
  performance: Record<string, unknown>;
  parent_id: unknown;
  created_ms: unknown;
  updated_ms: unknown;
}

function toRecord(r: ModelRow): ModelRecord {
  return {
    id: toInt(r.id),
    name: r.name,
    version: toInt(r.version),
    architecture: r.architecture,
    checkpointPath: r.checkpoint_path,
    hyperparameters: r.hyperparameters,
    trainingConfig: r.training_config,
    featureSetVersion: r.feature_set_version,
    status: r.status,
    performance: r.performance,
    parentId: toIntOrNull(r.parent_id),
    createdMs: toInt(r.created_ms),
    updatedMs: toInt(r.updated_ms),
  };
}

/**
 * The model registry: checkpoints with auto-incremented versions per name, a status lifecycle
 * (training → ready → deployed → archived) and a polling watcher for hot reload.
 *
 * @example
 * const registry = createModelRegistry({ db });
 * const m = await registry.register({ name: 'ppo-imbalance', architecture: 'mlp-64x64', checkpointPath: 'ckpt/1', featureSetVersion: 'v1', status: 'ready' });
 * const watcher = registry.watch('ppo-imbalance', { onModel: (model) => actor.load(model.checkpointPath) });
 */
export function createModelRegistry(options: ModelRegistryOptions): ModelRegistry {
  const { db } = options;
  const clock = options.clock ?? systemClock;
  const timers = options.timers ?? systemTimers;

  async function one(sql: string, params: unknown[], id: number): Promise<ModelRecord> {
    const rows = await selectRows<ModelRow>(db, sql, params);
    if (rows[0] === undefined) throw ingestError('MODEL_NOT_FOUND', `no model with id ${id}`, { details: { id } });
    return toRecord(rows[0]);
  }

  const registry: ModelRegistry = {
    async register(o) {
      const now = clock.now();
      // The version is computed in the INSERT itself; a concurrent registration of the same name hits the
      // (name, version) unique key and is retried with the next version.
      for (let attempt = 0; ; attempt++) {
        try {
          const rows = await selectRows<ModelRow>(
            db,
            `INSERT INTO models (name, version, architecture, checkpoint_path, hyperparameters, training_config, feature_set_version, status, performance, parent_id, created_ms, updated_ms)
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8::jsonb, $9, $10, $10 FROM models WHERE name = $1
             RETURNING ${COLUMNS}`,
            [
              o.name,
              o.architecture,
              o.checkpointPath,
              JSON.stringify(o.hyperparameters ?? {}),
              JSON.stringify(o.trainingConfig ?? {}),
              o.featureSetVersion,
              o.status ?? 'training',
              JSON.stringify(o.performance ?? {}),
              o.parentId ?? null,
              now,
            ],
          );
          return toRecord(rows[0]!);
        } catch (error) {
          if ((error as { code?: unknown }).code !== '23505' || attempt >= 10) throw error;
        }
      }
    },
    get: (id) => one(`SELECT ${COLUMNS} FROM models WHERE id = $1`, [id], id),
    async list(name) {
      const rows =
        name === undefined
          ? await selectRows<ModelRow>(db, `SELECT ${COLUMNS} FROM models ORDER BY name, version`)
          : await selectRows<ModelRow>(db, `SELECT ${COLUMNS} FROM models WHERE name = $1 ORDER BY version`, [name]);
      return rows.map(toRecord);
    },
    setStatus: (id, status) =>
      one(`UPDATE models SET status = $2, updated_ms = $3 WHERE id = $1 RETURNING ${COLUMNS}`, [id, status, clock.now()], id),
    setPerformance: (id, performance) =>
      one(`UPDATE models SET performance = $2::jsonb, updated_ms = $3 WHERE id = $1 RETURNING ${COLUMNS}`, [id, JSON.stringify(performance), clock.now()], id),
    async latest(name, statuses = ['ready', 'deployed']) {
      const rows = await selectRows<ModelRow>(
        db,
        `SELECT ${COLUMNS} FROM models WHERE name = $1 AND status = ANY($2::text[]) ORDER BY version DESC LIMIT 1`,
        [name, [...statuses]],
      );
      return rows[0] === undefined ? undefined : toRecord(rows[0]);
    },
    watch(name, w) {
      let last = w.afterVersion ?? 0;
      let stopped = false;
      let handle: unknown;
      const poll = async (): Promise<void> => {
        try {
          const model = await registry.latest(name, w.statuses);
          if (!stopped && model !== undefined && model.version > last) {
            last = model.version;
            w.onModel(model);
          }
        } catch (error) {
          w.onError?.(error);
        }
        if (!stopped) handle = timers.setTimeout(() => void poll(), w.intervalMs ?? 1000);
      };
      void poll();
      return {
        stop() {
          stopped = true;
          timers.clearTimeout(handle);
        },
      };
    },
  };
  return registry;
}
