/** Test support (not exported): deterministic policies, a controllable model source, a session feed. */
import { auditDecisions, type AuditReport } from '@kflow/env';
import { OBSERVATION_SIZE } from '@kflow/features';
import { type SessionData, type SharedOrderbookState, fnv1a32, sessionEvents } from '@kflow/orderbook';
import { type DecisionRecord, type TradingSetup, actionCount, decodeDecision } from '@kflow/paper';
import type { ActionLog, ActionLogRow } from './actor';
import type { ActorModel, ActorPolicy, Deployment, ModelSource } from './modelSource';

/**
 * A deterministic policy that trades a lot: the allowed action picked by a hash of the observation's
 * bits (salted, so two "models" decide differently). Replaying it on the same observation gives the same
 * action, which is all the audit needs.
 */
export function hashPolicy(setup: TradingSetup, salt = 0, pick?: (allowed: readonly number[], hash: number) => number): ActorPolicy {
  const count = actionCount(setup.sizesCenti);
  return {
    observationSize: OBSERVATION_SIZE,
    actionCount: count,
    featureSetVersion: setup.featureSetVersion,
    act(observation, mask) {
      const h = (Number.parseInt(fnv1a32(new Uint8Array(observation.buffer, observation.byteOffset, observation.byteLength)), 16) ^ salt) >>> 0;
      const allowed: number[] = [];
      for (let i = 0; i < count; i++) if (mask === undefined || mask[i] === 1) allowed.push(i);
      return pick === undefined ? allowed[h % allowed.length]! : pick(allowed, h);
    },
  };
}

export function model(setup: TradingSetup, version: number, policy: ActorPolicy = hashPolicy(setup, version)): ActorModel {
  return { id: `m${version}`, name: 'test', version, policy, setup };
}

/** A model source the test deploys to by hand. */
export function manualSource(first: ActorModel): ModelSource & { deploy(load: () => Promise<ActorModel>, version: number): void } {
  let listener: ((d: Deployment) => void) | undefined;
  const deployment = (m: ActorModel): Deployment => ({ id: m.id, name: m.name, version: m.version, deployedMs: 0, load: async () => m });
  return {
    current: async () => deployment(first),
    watch(onDeployment) {
      listener = onDeployment;
      return async () => {
        listener = undefined;
      };
    },
    deploy(load, version) {
      listener?.({ id: `m${version}`, name: 'test', version, deployedMs: 0, load });
    },
  };
}

/** The action log of a run, decoded the way the audit reads it back from a database. */
export function memoryLog(): ActionLog & { rows: ActionLogRow[]; decisions(): DecisionRecord[] } {
  const rows: ActionLogRow[] = [];
  return {
    rows,
    enqueue: (row) => rows.push(JSON.parse(JSON.stringify(row)) as ActionLogRow),
    decisions: () => rows.map((r) => decodeDecision(r.details, r.executionResult)),
  };
}

/**
 * Feeds a recorded session to the state as a live stream (markets interleaved by exchange time); calls
 * `onSettle` for each market with a settlement once its last event was applied (as the lifecycle frame
 * follows the market's data). `untilEvent` stops early (events fed so far).
 */
export function feed(
  state: SharedOrderbookState,
  session: SessionData,
  options: { onSettle?: (ticker: string, s: NonNullable<SessionData['markets'][number]['settlement']>) => void; onEvent?: (n: number) => void } = {},
): number {
  const remaining = new Map(session.markets.map((m) => [m.ticker, m.length + 1]));
  let n = 0;
  for (const event of sessionEvents(session)) {
    state.applyEvent(event);
    options.onEvent?.(++n);
    const left = remaining.get(event.ticker)! - 1;
    remaining.set(event.ticker, left);
    const series = session.markets.find((m) => m.ticker === event.ticker)!;
    if (left === 0 && series.settlement !== undefined) options.onSettle?.(event.ticker, series.settlement);
  }
  return n;
}

/** Audits a run's log against the session with the given policies by model id. */
export function audit(session: SessionData, setup: TradingSetup, log: ReturnType<typeof memoryLog>, policies: ReadonlyMap<string, ActorPolicy>): AuditReport {
  return auditDecisions({ session, setup, decisions: log.decisions(), policyFor: (m) => policies.get(m.id)! });
}
