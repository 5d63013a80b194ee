import { type TradingSetup, parseTradingSetup, tradingSetupToJson } from '@kflow/paper';
import { fnv1a32, isKflowError } from '@kflow/orderbook';
import { MultiCategorical } from './categorical';
import { ActorCritic, type Policy } from './actorCritic';
import { agentsError } from './errors';
import type { Backend } from './kernels';
import type { Activation, Mlp } from './mlp';
import type { TrainResult, TrainingState } from './training';

/** Current checkpoint format version; readers reject other versions. */
export const CHECKPOINT_FORMAT_VERSION = 1;

/** Action space as recorded in a checkpoint. */
export type CheckpointActionSpace =
  | { readonly kind: 'discrete'; readonly n: number }
  | { readonly kind: 'multiDiscrete'; readonly nvec: readonly number[] };

/**
 * `manifest.json` of a checkpoint. The weights file holds the tensors listed in `tensors` back to back as
 * little-endian float32, each layer as its row-major `[out × in]` weight matrix followed by its bias.
 */
export interface CheckpointManifest {
  readonly format: 'kflow-checkpoint';
  readonly formatVersion: number;
  readonly algorithm: 'ppo' | 'a2c';
  /** Observation-builder version the policy was trained with (`'none'` for non-Kalshi envs). */
  readonly featureSetVersion: string;
  readonly envId?: string;
  readonly seed: number;
  readonly spaces: {
    readonly observation: { readonly kind: 'box'; readonly shape: readonly number[] };
    readonly action: CheckpointActionSpace;
  };
  readonly network: { readonly hiddenSizes: readonly number[]; readonly activation: Activation; readonly shared: boolean };
  /** Tensors in the weights file: `policy` (logits, or logits + value when shared) and `value`. */
  readonly tensors: readonly { readonly name: 'policy' | 'value'; readonly offset: number; readonly length: number }[];
  readonly weightsFile: string;
  readonly weightsByteLength: number;
  /** FNV-1a 32-bit hash of the weights bytes, hex. */
  readonly weightsFnv1a: string;
  readonly hyperparameters: Readonly<Record<string, unknown>>;
  /**
   * The Kalshi trading setup the policy was trained with (`TradingSetup` as JSON: cadence, sizes, trading
   * kinds, position limit, cash, reward scale, fees, queue model, latency, feature set). The live actor
   * trades with exactly this and refuses checkpoints without it. Absent for non-Kalshi envs.
   */
  readonly trading?: Readonly<Record<string, unknown>>;
  /**
   * The optimizer's state at the checkpoint, in its own file (moment tensors back to back as little-endian
   * float32): what `resumeState` continues a run from. Absent in checkpoints written without it.
   */
  readonly optimizer?: {
    readonly kind: 'adam' | 'rmsprop';
    readonly steps: number;
    readonly file: string;
    readonly tensors: readonly { readonly offset: number; readonly length: number }[];
    readonly byteLength: number;
    /** FNV-1a 32-bit hash of the file's bytes, hex. */
    readonly fnv1a: string;
  };
  readonly training: {
    readonly timesteps: number;
    readonly episodes: number;
    readonly updates: number;
    /** Mean return of the last 100 training episodes (null if none finished). */
    readonly meanEpisodicReturn: number | null;
    readonly seconds: number;
  } & Readonly<Record<string, unknown>>;
}

/** A checkpoint in memory: the manifest and the bytes of the weights file (and of the optimizer's). */
export interface Checkpoint {
  readonly manifest: CheckpointManifest;
  readonly weights: Uint8Array;
  readonly optimizer?: Uint8Array;
}

/** Tensors back to back as little-endian float32, with where each one starts (in floats). */
function packFloat32(tensors: readonly Float32Array[]): { bytes: Uint8Array; entries: { offset: number; length: number }[] } {
  const bytes = new Uint8Array(tensors.reduce((s, t) => s + t.length, 0) * 4);
  const view = new DataView(bytes.buffer);
  let offset = 0;
  const entries = tensors.map((t) => {
    for (let i = 0; i < t.length; i++) view.setFloat32((offset + i) * 4, t[i]!, true);
    offset += t.length;
    return { offset: offset - t.length, length: t.length };
  });
  return { bytes, entries };
}

/** The tensors `entries` of little-endian float32 `bytes`. */
function unpackFloat32(bytes: Uint8Array, entries: readonly { readonly offset: number; readonly length: number }[]): Float32Array[] {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return entries.map(({ offset, length }) => {
    if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || (offset + length) * 4 > bytes.length) {
      throw agentsError('CHECKPOINT_INVALID', `a tensor at float ${offset} of ${length} floats lies outside its ${bytes.length}-byte file`);
    }
    return Float32Array.from({ length }, (_, i) => view.getFloat32((offset + i) * 4, true));
  });
}

/**
 * Serialises a training run into a checkpoint.
 *
 * @example
 * const result = trainPpo({ envs, totalTimesteps: 100_000, seed: 0 });
 * const checkpoint = createCheckpoint(result, { envId: 'CartPole-v1' });
 * await writeCheckpoint('runs/cartpole', checkpoint);
 */
export function createCheckpoint(
  result: TrainResult<object>,
  options: { envId?: string; training?: Readonly<Record<string, unknown>>; trading?: TradingSetup } = {},
): Checkpoint {
  const { policy } = result;
  const packed = packFloat32(policy.parameters());
  const weights = packed.bytes;
  const entries = packed.entries.map((e, k) => ({ name: k === 0 ? ('policy' as const) : ('value' as const), ...e }));
  const optimizer = packFloat32(result.optimizer.moments);
  const manifest: CheckpointManifest = {
    format: 'kflow-checkpoint',
    formatVersion: CHECKPOINT_FORMAT_VERSION,
    algorithm: result.algorithm,
    featureSetVersion: policy.featureSetVersion,
    ...(options.envId === undefined ? {} : { envId: options.envId }),
    seed: result.seed,
    spaces: {
      observation: { kind: 'box', shape: [policy.observationSize] },
      action: policy.nvec.length === 1 ? { kind: 'discrete', n: policy.nvec[0]! } : { kind: 'multiDiscrete', nvec: [...policy.nvec] },
    },
    network: { hiddenSizes: [...policy.hiddenSizes], activation: policy.activation, shared: policy.shared },
    tensors: entries,
    weightsFile: 'weights.bin',
    weightsByteLength: weights.length,
    weightsFnv1a: fnv1a32(weights),
    hyperparameters: { ...result.hyperparameters },
    ...(options.trading === undefined ? {} : { trading: tradingSetupToJson(options.trading) }),
    optimizer: {
      kind: result.optimizer.kind,
      steps: result.optimizer.steps,
      file: 'optimizer.bin',
      tensors: optimizer.entries,
      byteLength: optimizer.bytes.length,
      fnv1a: fnv1a32(optimizer.bytes),
    },
    training: {
      timesteps: result.timesteps,
      episodes: result.episodes,
      updates: result.updates,
      meanEpisodicReturn: Number.isFinite(result.meanEpisodicReturn) ? result.meanEpisodicReturn : null,
      seconds: result.seconds,
      ...options.training,
    },
  };
  return { manifest, weights, optimizer: optimizer.bytes };
}

/**
 * Where the run of a checkpoint stood, to continue it: `trainPpo({ ...options, resume: resumeState(checkpoint) })`.
 * Throws `CHECKPOINT_INVALID` when the checkpoint has no optimizer state or its files do not match the manifest.
 *
 * @example
 * const resume = resumeState(await readCheckpoint('runs/ppo-1'));
 * trainPpo({ envs, totalTimesteps: 600_000, seed: 0, ...KALSHI_PPO.ppo, policy: KALSHI_PPO.policy, resume });
 */
export function resumeState(checkpoint: Checkpoint): TrainingState {
  const m = validateManifest(checkpoint.manifest);
  checkWeights(checkpoint, m);
  const o = m.optimizer;
  if (o === undefined || checkpoint.optimizer === undefined) {
    throw agentsError('CHECKPOINT_INVALID', 'the checkpoint has no optimizer state (it was written by a version of kflow before resume): train from scratch instead');
  }
  if ((o.kind !== 'adam' && o.kind !== 'rmsprop') || !Array.isArray(o.tensors) || checkpoint.optimizer.length !== o.byteLength || fnv1a32(checkpoint.optimizer) !== o.fnv1a) {
    throw agentsError('CHECKPOINT_INVALID', `${o.file} does not match the manifest (kind, length or FNV-1a hash)`);
  }
  const t = m.training;
  return {
    parameters: unpackFloat32(checkpoint.weights, m.tensors),
    optimizer: { kind: o.kind, steps: o.steps, moments: unpackFloat32(checkpoint.optimizer, o.tensors) },
    timesteps: t.timesteps,
    episodes: t.episodes,
    updates: t.updates,
  };
}

function checkWeights(checkpoint: Checkpoint, m: CheckpointManifest): void {
  if (checkpoint.weights.length !== m.weightsByteLength || fnv1a32(checkpoint.weights) !== m.weightsFnv1a) {
    throw agentsError('CHECKPOINT_INVALID', 'weights file does not match the manifest (length or FNV-1a hash)');
  }
}

/** What the caller runs the policy against; every given field must match the checkpoint. */
export interface CheckpointExpectation {
  /** The running observation builder's version; a different one throws `FEATURE_SET_MISMATCH`. */
  featureSetVersion?: string;
  observationSize?: number;
  action?: CheckpointActionSpace;
}

/**
 * An inference-only policy restored from a checkpoint: deterministic `act` (argmax over unmasked
 * logits) and the policy metadata of docs/architecture.md §4.2. It holds no optimizer state, value head or gradients API.
 */
export class InferencePolicy implements Policy {
  readonly manifest: CheckpointManifest;
  /** The trading setup recorded by training (Kalshi checkpoints), validated. */
  readonly trading: TradingSetup | undefined;
  readonly observationSize: number;
  readonly actionCount: number;
  readonly featureSetVersion: string;
  readonly nvec: readonly number[];
  private readonly net: Mlp;
  private readonly dist: MultiCategorical;
  private readonly logits: Float32Array;
  private readonly actions: Int32Array;
  private readonly logProb = new Float32Array(1);

  constructor(manifest: CheckpointManifest, net: Mlp) {
    this.manifest = manifest;
    this.trading = manifest.trading === undefined ? undefined : parseTrading(manifest.trading);
    this.net = net;
    this.observationSize = net.inputSize;
    this.nvec = manifest.spaces.action.kind === 'discrete' ? [manifest.spaces.action.n] : [...manifest.spaces.action.nvec];
    this.dist = new MultiCategorical(this.nvec);
    this.actionCount = this.nvec.reduce((p, n) => p * n, 1);
    this.featureSetVersion = manifest.featureSetVersion;
    this.logits = new Float32Array(this.dist.logitCount);
    this.actions = new Int32Array(this.nvec.length);
  }

  /** Parameters of the policy network (read-only by convention; a copy is safer to keep). */
  get parameters(): Float32Array {
    return this.net.params;
  }

  act(observation: Float32Array, mask?: Uint8Array): number {
    if (this.nvec.length !== 1) throw agentsError('UNSUPPORTED_SPACE', 'act() needs a Discrete action space; use actVector()');
    return this.actVector(observation, mask)[0]!;
  }

  /** Most likely action row (one integer per component); the array is reused by the next call. */
  actVector(observation: Float32Array, mask?: Uint8Array): Int32Array {
    if (observation.length !== this.observationSize) {
      throw agentsError('SHAPE_MISMATCH', `observation has ${observation.length} floats, policy expects ${this.observationSize}`);
    }
    const out = this.net.forward(observation, 1);
    // A shared network's output row ends with the value; the logits come first.
    for (let j = 0; j < this.logits.length; j++) this.logits[j] = out[j]!;
    this.dist.sample(this.logits, 1, mask, undefined, this.actions, this.logProb);
    return this.actions;
  }
}

/**
 * Restores the policy of a checkpoint for inference, after checking the format, the weights' integrity
 * and (when given) the expected feature-set version and spaces.
 *
 * @example
 * const policy = loadPolicy(await readCheckpoint('runs/cartpole'), { featureSetVersion: 'none', observationSize: 4 });
 * policy.act(observation);
 */
export function loadPolicy(checkpoint: Checkpoint, expected: CheckpointExpectation = {}, backend?: Backend): InferencePolicy {
  const m = validateManifest(checkpoint.manifest);
  checkWeights(checkpoint, m);
  if (expected.featureSetVersion !== undefined && expected.featureSetVersion !== m.featureSetVersion) {
    throw agentsError(
      'FEATURE_SET_MISMATCH',
      `checkpoint was trained with feature set ${m.featureSetVersion}, the running builder is ${expected.featureSetVersion}`,
      { checkpoint: m.featureSetVersion, running: expected.featureSetVersion },
    );
  }
  const observationSize = m.spaces.observation.shape.reduce((p, n) => p * n, 1);
  if (expected.observationSize !== undefined && expected.observationSize !== observationSize) {
    throw agentsError('CHECKPOINT_MISMATCH', `checkpoint observes ${observationSize} floats, env gives ${expected.observationSize}`);
  }
  if (expected.action !== undefined && describeAction(expected.action) !== describeAction(m.spaces.action)) {
    throw agentsError(
      'CHECKPOINT_MISMATCH',
      `checkpoint acts in ${describeAction(m.spaces.action)}, env expects ${describeAction(expected.action)}`,
    );
  }
  const nvec = m.spaces.action.kind === 'discrete' ? [m.spaces.action.n] : [...m.spaces.action.nvec];
  // Build the same architecture, then copy the policy tensor in.
  const ac = new ActorCritic({
    observationSize,
    nvec,
    hiddenSizes: m.network.hiddenSizes,
    activation: m.network.activation,
    shared: m.network.shared,
    featureSetVersion: m.featureSetVersion,
    ...(backend === undefined ? {} : { backend }),
  });
  const tensor = m.tensors.find((t) => t.name === 'policy');
  if (tensor === undefined || tensor.length !== ac.policyNet.paramCount || tensor.offset + tensor.length > m.weightsByteLength / 4) {
    throw agentsError('CHECKPOINT_INVALID', 'policy tensor missing or of the wrong size for the recorded network');
  }
  const view = new DataView(checkpoint.weights.buffer, checkpoint.weights.byteOffset, checkpoint.weights.byteLength);
  const params = ac.policyNet.params;
  for (let i = 0; i < tensor.length; i++) {
    const w = view.getFloat32((tensor.offset + i) * 4, true);
    // A NaN or infinite weight makes every action's logit NaN: argmax would silently pick action 0.
    if (!Number.isFinite(w)) throw agentsError('CHECKPOINT_INVALID', `policy weight ${i} is ${w}: the checkpoint is not usable`);
    params[i] = w;
  }
  return new InferencePolicy(m, ac.policyNet);
}

function parseTrading(value: unknown): TradingSetup {
  try {
    return parseTradingSetup(value);
  } catch (error) {
    if (isKflowError(error)) throw agentsError('CHECKPOINT_INVALID', `manifest.trading is invalid: ${error.message}`);
    throw error;
  }
}

function validateManifest(value: unknown): CheckpointManifest {
  const m = value as Partial<CheckpointManifest> | null;
  if (m === null || typeof m !== 'object' || m.format !== 'kflow-checkpoint') {
    throw agentsError('CHECKPOINT_INVALID', 'not a kflow checkpoint manifest');
  }
  if (m.formatVersion !== CHECKPOINT_FORMAT_VERSION) {
    throw agentsError('CHECKPOINT_INVALID', `unsupported checkpoint format version ${String(m.formatVersion)}`);
  }
  if (
    typeof m.featureSetVersion !== 'string' ||
    m.spaces?.observation?.kind !== 'box' ||
    (m.spaces.action?.kind !== 'discrete' && m.spaces.action?.kind !== 'multiDiscrete') ||
    !Array.isArray(m.network?.hiddenSizes) ||
    !Array.isArray(m.tensors) ||
    typeof m.weightsByteLength !== 'number' ||
    typeof m.weightsFnv1a !== 'string'
  ) {
    throw agentsError('CHECKPOINT_INVALID', 'checkpoint manifest is missing required fields');
  }
  return m as CheckpointManifest;
}

function describeAction(a: CheckpointActionSpace): string {
  return a.kind === 'discrete' ? `Discrete(${a.n})` : `MultiDiscrete([${a.nvec.join(', ')}])`;
}
