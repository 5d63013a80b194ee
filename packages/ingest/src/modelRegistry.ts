import { systemClock, type Clock } from '@kflow/orderbook';
import { ingestError } from './errors';
import { selectRows, toInt, toIntOrNull, type IngestDatabase, type Queryable } from './queryable';
import { systemTimers, type Timers } from './timers';

/** Lifecycle of a registered model: `training` → `ready` → `deployed` (one per name) → `archived`. */
export type ModelStatus = 'training' | 'ready' | 'deployed' | 'archived';

/** One registered model version, as stored. */
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

/** What {@link ModelRegistry.register} stores; the version is assigned by the registry. */
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
  /**
   * Registering again with the same key returns the model registered first instead of adding a version:
   * a retried job (the key is its id) registers once.
   */
  readonly idempotencyKey?: string;
}

/** One entry of a name's deployment history: which model was made the one to trade, and when. */
export interface ModelDeployment {
  /** Increases with every deployment of any name. */
  readonly id: number;
  readonly model: ModelRecord;
  readonly action: 'deploy' | 'rollback';
  readonly deployedMs: number;
}

/** Options of {@link ModelRegistry.watch}. */
export interface WatchDeploymentOptions {
  /**
   * Called with the current deployment first (if any), then with every change: a newer version, or a
   * rollback to an older one. Only the latest state is reported: deployments in quick succession may
   * coalesce into one call.
   */
  readonly onDeployment: (deployment: ModelDeployment) => void;
  /** Called when a check or the LISTEN connection fails; watching continues (by polling). */
  readonly onError?: (error: unknown) => void;
  /**
   * Poll period, the fallback to LISTEN/NOTIFY (and its safety net). Default 1,000 ms without LISTEN,
   * 5,000 ms with it.
   */
  readonly intervalMs?: number;
}

/** The NOTIFY channel deployments are announced on (payload: the model name). */
export const MODEL_DEPLOYMENT_CHANNEL = 'kflow_model_deployments';

/** The model registry: versioned checkpoints per name, their status, and which version is deployed (see {@link createModelRegistry}). */
export interface ModelRegistry {
  /** Registers a checkpoint as the next version of `options.name` (default status `ready`). */
  register(options: RegisterModelOptions): Promise<ModelRecord>;
  /** One model by id; throws `MODEL_NOT_FOUND`. */
  get(id: number): Promise<ModelRecord>;
  /** Every model (of `name`, if given), ordered by name and version. */
  list(name?: string): Promise<ModelRecord[]>;
  /** Sets a model's status; throws `MODEL_NOT_FOUND`. */
  setStatus(id: number, status: ModelStatus): Promise<ModelRecord>;
  /** Replaces a model's recorded performance figures (any JSON); throws `MODEL_NOT_FOUND`. */
  setPerformance(id: number, performance: Readonly<Record<string, unknown>>): Promise<ModelRecord>;
  /** The highest version of `name` whose status is one of `statuses` (default ready or deployed). */
  latest(name: string, statuses?: readonly ModelStatus[]): Promise<ModelRecord | undefined>;
  /**
   * Makes `version` of `name` the model to trade: it becomes `deployed`, the version deployed before it
   * `ready`; the change is recorded in the deployment history and announced to watchers (NOTIFY).
   * Throws `MODEL_NOT_FOUND`, or `MODEL_NOT_DEPLOYABLE` for a model still `training`.
   */
  deploy(name: string, version: number): Promise<ModelDeployment>;
  /** Deploys again the model that was deployed before the current one. Throws `NO_PREVIOUS_DEPLOYMENT`. */
  rollback(name: string): Promise<ModelDeployment>;
  /** The current deployment of `name`, if it has ever been deployed. */
  deployment(name: string): Promise<ModelDeployment | undefined>;
  /** The deployment history of `name`, newest first. */
  deployments(name: string): Promise<ModelDeployment[]>;
  /**
   * Watches `name`'s deployment: the hot-reload source of the live actor. Uses LISTEN/NOTIFY where the
   * database offers it (PostgreSQL, PGlite), so a deploy is seen at once, and polls as the fallback.
   */
  watch(
    name: string,
    options: WatchDeploymentOptions,
  ): {
    /** Stops watching. */
    stop(): Promise<void>;
  };
}

/** Options of {@link createModelRegistry}. */
export interface ModelRegistryOptions {
  /** A `Queryable`; an `IngestDatabase` with `listen` makes `watch` use LISTEN/NOTIFY. */
  readonly db: Queryable & Pick<IngestDatabase, 'listen'>;
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

interface DeploymentRow extends ModelRow {
  deployment_id: unknown;
  action: 'deploy' | 'rollback';
  deployed_ms: unknown;
}

const DEPLOYMENT_SELECT = `SELECT d.id AS deployment_id, d.action, d.deployed_ms, ${COLUMNS.split(', ')
  .map((c) => `m.${c}`)
  .join(', ')} FROM model_deployments d JOIN models m ON m.id = d.model_id`;

function toDeployment(r: DeploymentRow): ModelDeployment {
  return { id: toInt(r.deployment_id), model: toRecord(r), action: r.action, deployedMs: toInt(r.deployed_ms) };
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
 * (training → ready → deployed → archived), a deployment history with rollback, and a watcher that
 * reports deployments at once (LISTEN/NOTIFY) for hot reload.
 *
 * @example
 * const registry = createModelRegistry({ db });
 * const m = await registry.register({ name: 'ppo-imbalance', architecture: 'mlp-64x64', checkpointPath: 'ckpt/1', featureSetVersion: 'v1', status: 'ready' });
 * await registry.deploy('ppo-imbalance', m.version);
 * const watcher = registry.watch('ppo-imbalance', { onDeployment: (d) => reload(d.model.checkpointPath) });
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
      // (name, version) unique key and is retried with the next version. A known idempotency key inserts
      // nothing, and the model it registered is returned.
      for (let attempt = 0; ; attempt++) {
        try {
          const rows = await selectRows<ModelRow>(
            db,
            `INSERT INTO models (name, version, architecture, checkpoint_path, hyperparameters, training_config, feature_set_version, status, performance, parent_id, created_ms, updated_ms, idempotency_key)
             SELECT $1, COALESCE(MAX(version), 0) + 1, $2, $3, $4::jsonb, $5::jsonb, $6, $7, $8::jsonb, $9, $10, $10, $11 FROM models WHERE name = $1
             ON CONFLICT (idempotency_key) DO NOTHING
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
              o.idempotencyKey ?? null,
            ],
          );
          if (rows[0] !== undefined) return toRecord(rows[0]);
          const first = await selectRows<ModelRow>(db, `SELECT ${COLUMNS} FROM models WHERE idempotency_key = $1`, [o.idempotencyKey]);
          return toRecord(first[0]!);
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
    async deploy(name, version) {
      const target = await selectRows<ModelRow>(db, `SELECT ${COLUMNS} FROM models WHERE name = $1 AND version = $2`, [name, version]);
      const model = target[0] === undefined ? undefined : toRecord(target[0]);
      if (model === undefined) throw ingestError('MODEL_NOT_FOUND', `no model ${name} v${version}`, { details: { name, version } });
      return deployModel(model, 'deploy');
    },
    async rollback(name) {
      const history = await registry.deployments(name);
      const current = history[0];
      const previous = history.find((d) => d.model.id !== current?.model.id);
      if (current === undefined || previous === undefined) {
        throw ingestError('NO_PREVIOUS_DEPLOYMENT', `${name} has no earlier deployment to roll back to`, { details: { name } });
      }
      return deployModel(await registry.get(previous.model.id), 'rollback');
    },
    async deployment(name) {
      const rows = await selectRows<DeploymentRow>(db, `${DEPLOYMENT_SELECT} WHERE d.name = $1 ORDER BY d.id DESC LIMIT 1`, [name]);
      return rows[0] === undefined ? undefined : toDeployment(rows[0]);
    },
    async deployments(name) {
      const rows = await selectRows<DeploymentRow>(db, `${DEPLOYMENT_SELECT} WHERE d.name = $1 ORDER BY d.id DESC`, [name]);
      return rows.map(toDeployment);
    },
    watch(name, w) {
      let lastId = 0;
      let stopped = false;
      let handle: unknown;
      let unlisten: (() => Promise<void>) | undefined;
      let listening: Promise<void> | undefined;
      // One check at a time; a notification during a check asks for one more.
      let checking: Promise<void> | undefined;
      let again = false;
      const check = (): Promise<void> => {
        if (checking !== undefined) {
          again = true;
          return checking;
        }
        checking = (async () => {
          do {
            again = false;
            try {
              const current = await registry.deployment(name);
              if (!stopped && current !== undefined && current.id !== lastId) {
                lastId = current.id;
                w.onDeployment(current);
              }
            } catch (error) {
              if (!stopped) w.onError?.(error);
            }
          } while (again && !stopped);
        })().finally(() => {
          checking = undefined;
        });
        return checking;
      };
      const listen = (): void => {
        if (db.listen === undefined || unlisten !== undefined || listening !== undefined) return;
        const lost = (error: unknown) => {
          unlisten = undefined;
          if (!stopped) w.onError?.(error);
        };
        listening = db
          .listen(MODEL_DEPLOYMENT_CHANNEL, (payload) => payload === name && void check(), lost)
          .then(
            (off) => {
              if (stopped) return void off().catch(() => {});
              unlisten = off;
            },
            lost,
          )
          .finally(() => {
            listening = undefined;
          });
      };
      const poll = async (): Promise<void> => {
        listen(); // (re)establish LISTEN after a lost connection
        await check();
        if (!stopped) handle = timers.setTimeout(() => void poll(), w.intervalMs ?? (db.listen === undefined ? 1000 : 5000));
      };
      listen();
      void poll();
      return {
        async stop() {
          stopped = true;
          timers.clearTimeout(handle);
          await listening;
          await unlisten?.();
          unlisten = undefined;
        },
      };
    },
  };

  /** One statement (so one transaction on any pool): status changes, the history row, and the NOTIFY. */
  async function deployModel(model: ModelRecord, action: 'deploy' | 'rollback'): Promise<ModelDeployment> {
    if (model.status === 'training') {
      throw ingestError('MODEL_NOT_DEPLOYABLE', `${model.name} v${model.version} is still training: mark it ready first`, {
        details: { id: model.id },
      });
    }
    const rows = await selectRows<{ id: unknown; deployed_ms: unknown }>(
      db,
      `WITH previous AS (
         UPDATE models SET status = 'ready', updated_ms = $3 WHERE name = $1 AND status = 'deployed' AND id <> $2 RETURNING id
       ), target AS (
         UPDATE models SET status = 'deployed', updated_ms = $3 WHERE id = $2 RETURNING id
       ), added AS (
         INSERT INTO model_deployments (name, model_id, action, deployed_ms) SELECT $1, id, $4, $3 FROM target RETURNING id, deployed_ms
       )
       SELECT added.id, added.deployed_ms, (SELECT count(*) FROM previous) AS demoted, pg_notify($5, $1) AS notified FROM added`,
      [model.name, model.id, clock.now(), action, MODEL_DEPLOYMENT_CHANNEL],
    );
    const row = rows[0];
    if (row === undefined) throw ingestError('MODEL_NOT_FOUND', `no model with id ${model.id}`, { details: { id: model.id } });
    return { id: toInt(row.id), model: await registry.get(model.id), action, deployedMs: toInt(row.deployed_ms) };
  }

  return registry;
}
