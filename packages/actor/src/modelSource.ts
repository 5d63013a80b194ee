import type { TradingSetup } from '@kflow/paper';
import { actorError } from './errors';

/**
 * What the actor asks a model: the structural policy of the architecture (an `InferencePolicy` from
 * `@kflow/agents` fits). Inference only: the actor never trains or changes weights.
 */
export interface ActorPolicy {
  readonly observationSize: number;
  readonly actionCount: number;
  readonly featureSetVersion: string;
  /** The action for `observation`, among those `mask` allows (1 = allowed). Must be deterministic. */
  act(observation: Float32Array, mask?: Uint8Array): number;
}

/** A loaded model: its identity, its policy and the trading setup it was trained with. */
export interface ActorModel {
  /** Stable identity (e.g. the registry id); decisions record it. */
  readonly id: string;
  readonly name: string;
  readonly version: number;
  readonly policy: ActorPolicy;
  readonly setup: TradingSetup;
}

/** A model made the one to trade (a deployment, or a rollback to an older version). */
export interface Deployment {
  readonly id: string;
  readonly name: string;
  readonly version: number;
  /** Wall-clock time of the deployment, ms (deploy → first decision is measured from it). */
  readonly deployedMs: number;
  /** Loads and returns the model (reads files: the actor calls it off its decision path). */
  load(): Promise<ActorModel>;
}

/** Where the actor gets its models: the deployment to start with, then every change. */
export interface ModelSource {
  /** The current deployment. Rejects (`NO_DEPLOYED_MODEL`) when there is none. */
  current(): Promise<Deployment>;
  /** Reports every later change of deployment; returns the function that stops watching. */
  watch(onDeployment: (deployment: Deployment) => void, onError: (error: unknown) => void): () => Promise<void>;
}

/**
 * A source with one fixed model and no hot reload (a checkpoint directory given on the command line).
 *
 * @example
 * const models = createStaticModelSource({ id: 'dir:runs/ppo', name: 'ppo', version: 0, policy, setup });
 */
export function createStaticModelSource(model: ActorModel, deployedMs = 0): ModelSource {
  const deployment: Deployment = { id: model.id, name: model.name, version: model.version, deployedMs, load: async () => model };
  return {
    current: async () => deployment,
    watch: () => async () => {},
  };
}

/** The part of a model registry the actor watches (`@kflow/ingest`'s `ModelRegistry` fits). */
export interface DeploymentRegistry {
  /** The current deployment of `name`, or undefined when it has none. */
  deployment(name: string): Promise<RegistryDeployment | undefined>;
  /** Calls `onDeployment` on every later deploy or rollback of `name` until `stop()` is called. */
  watch(
    name: string,
    options: { readonly onDeployment: (deployment: RegistryDeployment) => void; readonly onError?: (error: unknown) => void },
  ): {
    /** Stops watching. */
    stop(): Promise<void>;
  };
}

/** A deployment as a registry reports it. */
export interface RegistryDeployment {
  readonly id: number;
  readonly deployedMs: number;
  readonly model: { readonly id: number; readonly name: string; readonly version: number; readonly checkpointPath: string };
}

/** Options of {@link createRegistryModelSource}. */
export interface RegistryModelSourceOptions {
  readonly registry: DeploymentRegistry;
  /** The model name to trade: its current deployment, then every deploy and rollback. */
  readonly name: string;
  /** Reads a checkpoint into a policy and its trading setup (e.g. `readCheckpoint` + `loadPolicy` of `@kflow/agents`). */
  readonly load: (checkpointPath: string) => Promise<{ readonly policy: ActorPolicy; readonly setup: TradingSetup }>;
}

/**
 * A `ModelSource` over a model registry: hot reload of deployments and rollbacks, as fast as the registry
 * announces them (LISTEN/NOTIFY on PostgreSQL and PGlite).
 *
 * @example
 * const models = createRegistryModelSource({
 *   registry: createModelRegistry({ db }),
 *   name: 'kflow-demo',
 *   load: async (path) => { const policy = loadPolicy(await readCheckpoint(path)); return { policy, setup: policy.trading! }; },
 * });
 */
export function createRegistryModelSource(options: RegistryModelSourceOptions): ModelSource {
  const { registry, name, load } = options;
  const toDeployment = (d: RegistryDeployment): Deployment => ({
    id: String(d.model.id),
    name: d.model.name,
    version: d.model.version,
    deployedMs: d.deployedMs,
    load: async () => {
      const { policy, setup } = await load(d.model.checkpointPath);
      return { id: String(d.model.id), name: d.model.name, version: d.model.version, policy, setup };
    },
  });
  // The deployment last handed out: the watcher's first report repeats it and is skipped.
  let lastId: number | undefined;
  return {
    async current() {
      const d = await registry.deployment(name);
      lastId = d?.id;
      if (d === undefined) {
        throw actorError('NO_DEPLOYED_MODEL', `no version of ${name} is deployed: deploy one first (kflow models deploy ${name} VERSION)`, {
          details: { name },
        });
      }
      return toDeployment(d);
    },
    watch(onDeployment, onError) {
      const watcher = registry.watch(name, {
        onDeployment: (d) => {
          if (d.id === lastId) return;
          lastId = d.id;
          onDeployment(toDeployment(d));
        },
        onError,
      });
      return () => watcher.stop();
    },
  };
}
