import { FEATURE_SET_VERSION, FEATURE_SPEC } from '@kflow/features';
import type { SessionData } from '@kflow/orderbook';
import type { DecisionModel, DecisionRecord, TradingSetup, TradingSetupOptions } from '@kflow/paper';
import { envError } from '../core/errors';
import { type KalshiEnvInfo, createKalshiEnv } from './kalshiEnv';
import { createMarketPool } from './marketPool';

/** The policy the audit asks again (the structural policy: an `InferencePolicy` fits). */
export interface AuditPolicy {
  /** The action for an observation under an action mask (deterministic). */
  act(observation: Float32Array, mask?: Uint8Array): number;
}

/** What differed first: the decision, the field, and both values. */
export interface AuditMismatch {
  readonly market: string;
  readonly step: number;
  readonly tsMs: number;
  readonly field:
    | 'missing'
    | 'extra'
    | 'eventIndex'
    | 'observation'
    | 'mask'
    | 'action'
    | 'executed'
    | 'fills'
    | 'position'
    | 'cash'
    | 'value'
    | 'pnl'
    | 'fees';
  readonly live: unknown;
  readonly replay: unknown;
  /** For `observation`: the first feature that differs. */
  readonly feature?: string;
}

/** What {@link auditDecisions} found. */
export interface AuditReport {
  /** Decisions compared. */
  readonly decisions: number;
  /** Decisions with at least one differing field (a missing or extra decision counts as one). */
  readonly mismatches: number;
  /** The earliest (in exchange time) mismatch, or null. */
  readonly firstMismatch: AuditMismatch | null;
  readonly markets: number;
  /** Decisions logged without an outcome (the run ended before their step did): compared except for the outcome. */
  readonly unfinished: number;
  /**
   * Decisions whose outcome was measured on a stale book (a sequence gap before the resync): the live
   * account keeps the last trusted book, so their outcome is not compared. Stale decisions themselves are
   * replayed as the HOLD they were.
   */
  readonly staleOutcomes: number;
  /** Σ over markets of the PnL after the last finished decision: as logged, and as replayed. Micro-dollars. */
  readonly pnlLiveMicros: number;
  readonly pnlReplayMicros: number;
}

/** Options of {@link auditDecisions}. */
export interface AuditOptions {
  /** The recorded session the decisions were made on (the collector's recording of the same stream). */
  readonly session: SessionData;
  /** The run's trading setup (every model of a run shares it). */
  readonly setup: TradingSetup;
  /** Every decision of the run (any order). */
  readonly decisions: readonly DecisionRecord[];
  /** The model that made a decision, loaded again. */
  readonly policyFor: (model: DecisionModel) => AuditPolicy;
}

/** `KalshiEnvOptions` that reproduce a trading setup. */
export function envOptionsFromSetup(setup: TradingSetup): TradingSetupOptions {
  return {
    cadence: setup.cadence,
    sizesCenti: setup.sizesCenti,
    tradingKinds: setup.tradingKinds,
    positionLimitCenti: setup.positionLimitCenti,
    initialCashMicros: setup.initialCashMicros,
    rewardScale: setup.rewardScale,
    precision: setup.precision,
    queueModel: setup.queueModel,
    ...(setup.fees === undefined ? {} : { fees: setup.fees }),
    ...(setup.latency === undefined ? {} : { latency: setup.latency }),
  };
}

const bits = (a: Float32Array): Uint32Array => new Uint32Array(a.buffer, a.byteOffset, a.length);

/**
 * The live-equals-backtest audit: replays each market of a recorded session through
 * `MarketAgnosticKalshiEnv` with the run's setup, from the market's first snapshot, asks the same models
 * again, and compares every logged decision with the replay: event index, observation (bit for bit),
 * mask, the policy's action, whether it executed, and after the step the fills, position, cash, value,
 * PnL and fees. Overridden decisions (stale book, risk limits) replay the action the actor executed.
 * Pure computation on in-memory data.
 *
 * @example
 * const report = auditDecisions({ session, setup, decisions, policyFor: (m) => policies.get(m.id)! });
 * report.mismatches; // 0 when live equals backtest
 */
export function auditDecisions(options: AuditOptions): AuditReport {
  const { session, setup, policyFor } = options;
  if (setup.featureSetVersion !== FEATURE_SET_VERSION || setup.featureNames.join(',') !== FEATURE_SPEC.features.map((f) => f.name).join(',')) {
    throw envError('INVALID_ARGUMENT', `the run used feature set ${setup.featureSetVersion}; this env builds ${FEATURE_SET_VERSION}`);
  }
  const byMarket = new Map<string, DecisionRecord[]>();
  for (const d of options.decisions) {
    let list = byMarket.get(d.market);
    if (list === undefined) byMarket.set(d.market, (list = []));
    list.push(d);
  }
  const pool = createMarketPool([session], { minEvents: 1 });
  const marketIndex = new Map(pool.markets.map((m, i) => [m.series.ticker, i]));
  const env = createKalshiEnv({ sessions: pool, ...envOptionsFromSetup(setup) });
  const initialValue = setup.initialCashMicros;

  let decisions = 0;
  let mismatches = 0;
  let unfinished = 0;
  let staleOutcomes = 0;
  let first: AuditMismatch | null = null;
  let pnlLive = 0;
  let pnlReplay = 0;
  const report = (m: AuditMismatch): void => {
    if (first === null || m.tsMs < first.tsMs || (m.tsMs === first.tsMs && m.market < first.market)) first = m;
  };

  for (const [ticker, list] of byMarket) {
    list.sort((a, b) => a.step - b.step);
    const index = marketIndex.get(ticker);
    if (index === undefined) {
      // The recording has no events for this market: nothing to replay against.
      mismatches += list.length;
      decisions += list.length;
      report({ market: ticker, step: list[0]!.step, tsMs: list[0]!.tsMs, field: 'missing', live: 'decisions', replay: 'no recorded events' });
      continue;
    }
    let { observation, info } = env.reset({ options: { marketIndex: index, startEvent: 0, steps: list.length + 1 } });
    let lastLive: number | undefined;
    let lastReplay: number | undefined;
    for (let k = 0; k < list.length; k++) {
      const d = list[k]!;
      decisions++;
      const found: AuditMismatch[] = [];
      const at = (field: AuditMismatch['field'], live: unknown, replay: unknown, feature?: string): void => {
        found.push({ market: ticker, step: d.step, tsMs: d.tsMs, field, live, replay, ...(feature === undefined ? {} : { feature }) });
      };
      if (d.step !== k) {
        // A decision the live run did not log (or logged twice): the rest of the market cannot be aligned.
        at('missing', `step ${d.step}`, `step ${k}`);
        mismatches++;
        report(found[0]!);
        decisions += list.length - k - 1;
        mismatches += list.length - k - 1;
        break;
      }
      if (d.eventIndex !== info.eventIndex) at('eventIndex', d.eventIndex, info.eventIndex);
      // On a stale book the live account deliberately distrusts the book; only the executed HOLD is replayed.
      if (d.override !== 'stale') {
        const a = bits(d.observation);
        const b = bits(observation);
        const i = a.findIndex((x, j) => x !== b[j]);
        if (i >= 0 || a.length !== b.length) at('observation', d.observation[i], observation[i], FEATURE_SPEC.features[i]?.name);
        if (d.mask.join('') !== info.actionMask.join('')) at('mask', d.mask.join(''), info.actionMask.join(''));
      }
      let replayAction = d.action;
      if (d.policyAction !== null) {
        const chosen = policyFor(d.model).act(observation, info.actionMask);
        if (chosen !== d.policyAction) at('action', d.policyAction, chosen);
        if (d.override === null) replayAction = chosen;
      }
      const step = env.step(replayAction);
      observation = step.observation;
      info = step.info;
      if (d.executed === info.infeasible) at('executed', d.executed, !info.infeasible);
      const o = d.outcome;
      if (o === null) unfinished++;
      else if (list[k + 1]?.override === 'stale') {
        // Measured on a stale book: the live account marks and matches against the last trusted book, the
        // recording's replay against the book as it kept changing. Not comparable until the resync.
        staleOutcomes++;
      } else {
        compareOutcome(o, info, env.account.cashMicros, initialValue, at);
        lastLive = o.pnlMicros;
        lastReplay = info.pnlMicros;
      }
      if (found.length > 0) {
        mismatches++;
        report(found[0]!);
      }
      if ((step.terminated || step.truncated) && k < list.length - 1 && list[k + 1]!.outcome !== null) {
        // The recording ends (or settles) here but the live run decided on: more than the replay can see.
        const next = list[k + 1]!;
        report({ market: ticker, step: next.step, tsMs: next.tsMs, field: 'extra', live: 'decision', replay: 'episode over' });
        mismatches += list.length - k - 1;
        decisions += list.length - k - 1;
        break;
      }
      if (step.terminated || step.truncated) {
        decisions += list.length - k - 1; // unfinished trailing rows: nothing left to compare them with
        break;
      }
    }
    pnlLive += lastLive ?? 0;
    pnlReplay += lastReplay ?? 0;
  }
  return {
    decisions,
    mismatches,
    firstMismatch: first,
    markets: byMarket.size,
    unfinished,
    staleOutcomes,
    pnlLiveMicros: pnlLive,
    pnlReplayMicros: pnlReplay,
  };
}

function compareOutcome(
  o: NonNullable<DecisionRecord['outcome']>,
  info: KalshiEnvInfo,
  cashMicros: number,
  initialValue: number,
  at: (field: AuditMismatch['field'], live: unknown, replay: unknown) => void,
): void {
  const live = o.fills.map((f) => [f.side, f.priceUnits, f.countCenti, f.isTaker].join(' ')).join(', ');
  const replay = info.fills.map((f) => [f.side, f.priceUnits, f.countCenti, f.isTaker].join(' ')).join(', ');
  if (live !== replay) at('fills', live, replay);
  if (o.positionCenti !== info.positionCenti) at('position', o.positionCenti, info.positionCenti);
  if (o.cashMicros !== cashMicros) at('cash', o.cashMicros, cashMicros);
  if (o.valueMicros !== info.pnlMicros + initialValue) at('value', o.valueMicros, info.pnlMicros + initialValue);
  if (o.pnlMicros !== info.pnlMicros) at('pnl', o.pnlMicros, info.pnlMicros);
  if (o.feesMicros !== info.feesMicros) at('fees', o.feesMicros, info.feesMicros);
}
