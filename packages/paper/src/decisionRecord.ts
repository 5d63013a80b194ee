import { KflowError, fnv1a32 } from '@kflow/orderbook';
import type { PaperErrorCode } from './errors';
import type { OrderRequest } from './orders';
import type { BookSide } from './positionTracker';

/**
 * Why the live actor did not execute the policy's choice:
 * - `stale`: the book was stale (sequence gap, awaiting the resync snapshot): HOLD, the policy not asked;
 * - `loss-limit`: the session loss limit was hit: the market's open orders are canceled (CANCEL_ALL);
 * - `halted`: after the loss limit: HOLD, the policy not asked;
 * - `max-open-orders`: the choice would add an order past the per-market open-order limit: HOLD;
 * - `position-limit`: the choice could push |position| past the actor's own limit: HOLD.
 */
export type DecisionOverride = 'stale' | 'loss-limit' | 'halted' | 'max-open-orders' | 'position-limit';

/** One fill of our orders, exact units. */
export interface DecisionFill {
  readonly side: BookSide;
  readonly priceUnits: number;
  readonly countCenti: number;
  readonly isTaker: boolean;
}

/** A market's account after a decision's step: what the env's `info` reports after the same step. */
export interface DecisionOutcome {
  /** Our fills during the step (the order's own and those of resting orders until the next decision). */
  readonly fills: readonly DecisionFill[];
  readonly positionCenti: number;
  readonly cashMicros: number;
  /** Cash plus the position marked to mid (may hold a half micro-dollar). */
  readonly valueMicros: number;
  /** Value change since the market's first decision (the env's `info.pnlMicros`). */
  readonly pnlMicros: number;
  readonly feesMicros: number;
}

/** The model that made (or would have made) a decision. */
export interface DecisionModel {
  readonly id: string;
  readonly name: string;
  readonly version: number;
}

/**
 * One decision of the live actor on one market: what it saw, what the policy chose, what was executed,
 * and what the step led to. The action log stores it; the audit replays the session in the env and
 * compares field by field.
 */
export interface DecisionRecord {
  readonly market: string;
  /** Decision index within the market (0 at its first snapshot). */
  readonly step: number;
  /** Exchange time of the decision, ms. */
  readonly tsMs: number;
  /** Events of the market applied before the decision (the env's `info.eventIndex`). */
  readonly eventIndex: number;
  readonly observation: Float32Array;
  readonly mask: Uint8Array;
  /** What the policy chose; null when it was not asked (stale book, after the loss limit). */
  readonly policyAction: number | null;
  /** What was executed: the policy's choice, or the override's HOLD / CANCEL_ALL. */
  readonly action: number;
  readonly override: DecisionOverride | null;
  /** False when the action could not be executed (masked, refused, nothing to cancel): the env's `infeasible`. */
  readonly executed: boolean;
  readonly order: OrderRequest | null;
  /** The paper client's error code when it refused the order. */
  readonly reject: string | null;
  readonly model: DecisionModel;
  /** From the event that triggered the decision entering the book to the order accepted, µs. */
  readonly latencyMicros: number;
  /** Set at the market's next decision or settlement; null when the run ended first. */
  readonly outcome: DecisionOutcome | null;
}

/** A `DecisionRecord` as the JSON columns of the action log. */
export interface EncodedDecision {
  /** Everything but the outcome (observation as base64 of its float32 bytes, mask as a `0`/`1` string). */
  readonly details: Record<string, unknown>;
  /** The outcome, or null. */
  readonly executionResult: Record<string, unknown> | null;
  /** FNV-1a of the observation's float32 bytes. */
  readonly observationHash: string;
}

const FORMAT = 1;

/** FNV-1a of an observation's float32 bytes (bit-exact identity). */
export function observationHash(observation: Float32Array): string {
  return fnv1a32(new Uint8Array(observation.buffer, observation.byteOffset, observation.byteLength));
}

const OVERRIDES: readonly DecisionOverride[] = ['stale', 'loss-limit', 'halted', 'max-open-orders', 'position-limit'];

/** Base64 of the float32 bytes (little-endian, as typed arrays are on every platform kflow runs on): exact, -0 included. */
function observationToBase64(observation: Float32Array): string {
  const bytes = new Uint8Array(observation.buffer, observation.byteOffset, observation.byteLength);
  let binary = '';
  for (let i = 0; i < bytes.length; i++) binary += String.fromCharCode(bytes[i]!);
  return btoa(binary);
}

function observationFromBase64(text: string): Float32Array {
  let binary: string;
  try {
    binary = atob(text);
  } catch {
    throw bad('observation must be base64');
  }
  if (binary.length % 4 !== 0) throw bad('observation must hold whole float32 values');
  const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
  return new Float32Array(bytes.buffer);
}

/**
 * Encodes a decision for storage. The observation is stored as base64 of its float32 bytes, so
 * `decodeDecision` restores the same bits (JSON numbers would turn -0 into 0).
 *
 * @example
 * const { details, executionResult, observationHash } = encodeDecision(record);
 */
export function encodeDecision(r: DecisionRecord): EncodedDecision {
  const details = {
    format: FORMAT,
    market: r.market,
    step: r.step,
    tsMs: r.tsMs,
    eventIndex: r.eventIndex,
    observation: observationToBase64(r.observation),
    mask: Array.from(r.mask).join(''),
    policyAction: r.policyAction,
    action: r.action,
    override: r.override,
    executed: r.executed,
    order: r.order,
    reject: r.reject,
    model: r.model,
    latencyMicros: r.latencyMicros,
  };
  const o = r.outcome;
  return {
    details,
    executionResult:
      o === null
        ? null
        : { ...o, fills: o.fills.map((f) => [f.side, f.priceUnits, f.countCenti, f.isTaker]) },
    observationHash: observationHash(r.observation),
  };
}

function bad(message: string): KflowError<PaperErrorCode> {
  return new KflowError<PaperErrorCode>('INVALID_ARGUMENT', `decision record: ${message}`);
}

function num(v: Record<string, unknown>, key: string): number {
  const x = v[key];
  if (typeof x !== 'number' || !Number.isFinite(x)) throw bad(`${key} must be a number`);
  return x;
}

/**
 * Restores a record stored by `encodeDecision`. Throws `INVALID_ARGUMENT` naming the bad field.
 *
 * @example
 * const record = decodeDecision(row.details, row.executionResult);
 */
export function decodeDecision(details: unknown, executionResult: unknown): DecisionRecord {
  if (typeof details !== 'object' || details === null) throw bad('details must be an object');
  const d = details as Record<string, unknown>;
  if (d['format'] !== FORMAT) throw bad(`unsupported format ${JSON.stringify(d['format'])}`);
  const obs = d['observation'];
  const mask = d['mask'];
  const model = d['model'] as Record<string, unknown> | null;
  if (typeof obs !== 'string') throw bad('observation must be a base64 string');
  if (typeof mask !== 'string' || !/^[01]*$/.test(mask)) throw bad('mask must be a 0/1 string');
  if (typeof d['market'] !== 'string') throw bad('market must be a string');
  if (model === null || typeof model !== 'object' || typeof model['id'] !== 'string' || typeof model['name'] !== 'string') {
    throw bad('model must be { id, name, version }');
  }
  const policyAction = d['policyAction'];
  if (policyAction !== null && !Number.isInteger(policyAction)) throw bad('policyAction must be an integer or null');
  const override = d['override'];
  if (override !== null && !OVERRIDES.includes(override as DecisionOverride)) throw bad(`unknown override ${JSON.stringify(override)}`);
  if (typeof d['executed'] !== 'boolean') throw bad('executed must be a boolean');
  const order = d['order'];
  if (order !== null && (typeof order !== 'object' || Array.isArray(order))) throw bad('order must be an object or null');
  const reject = d['reject'];
  if (reject !== null && typeof reject !== 'string') throw bad('reject must be a string or null');
  let outcome: DecisionOutcome | null = null;
  if (executionResult !== null && executionResult !== undefined) {
    if (typeof executionResult !== 'object') throw bad('outcome must be an object');
    const o = executionResult as Record<string, unknown>;
    const fills = o['fills'];
    if (!Array.isArray(fills)) throw bad('outcome.fills must be an array');
    outcome = {
      fills: fills.map((f: unknown) => {
        if (!Array.isArray(f) || f.length !== 4) throw bad('each fill must be [side, priceUnits, countCenti, isTaker]');
        const [side, priceUnits, countCenti, isTaker] = f as unknown[];
        if ((side !== 'bid' && side !== 'ask') || !Number.isSafeInteger(priceUnits) || !Number.isSafeInteger(countCenti) || typeof isTaker !== 'boolean') {
          throw bad(`invalid fill ${JSON.stringify(f)}`);
        }
        return { side, priceUnits: priceUnits as number, countCenti: countCenti as number, isTaker };
      }),
      positionCenti: num(o, 'positionCenti'),
      cashMicros: num(o, 'cashMicros'),
      valueMicros: num(o, 'valueMicros'),
      pnlMicros: num(o, 'pnlMicros'),
      feesMicros: num(o, 'feesMicros'),
    };
  }
  return {
    market: d['market'],
    step: num(d, 'step'),
    tsMs: num(d, 'tsMs'),
    eventIndex: num(d, 'eventIndex'),
    observation: observationFromBase64(obs),
    mask: Uint8Array.from(mask, (c) => (c === '1' ? 1 : 0)),
    policyAction: policyAction as number | null,
    action: num(d, 'action'),
    override: override as DecisionOverride | null,
    executed: d['executed'],
    order: order as OrderRequest | null,
    reject: reject as string | null,
    model: { id: model['id'], name: model['name'], version: num(model, 'version') },
    latencyMicros: num(d, 'latencyMicros'),
    outcome,
  };
}
