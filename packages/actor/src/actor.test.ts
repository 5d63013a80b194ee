import { createSyntheticSession } from '@kflow/env';
import { OBSERVATION_SIZE } from '@kflow/features';
import { createRng, createSharedOrderbookState, isKflowError, sessionEvents } from '@kflow/orderbook';
import { type TradingSetup, createActionSpace, decodeDecision, encodeAction, encodeDecision, resolveTradingSetup } from '@kflow/paper';
import { describe, expect, it } from 'vitest';
import { type ActorEvent, createActor, validateModel } from './actor';
import { audit, feed, hashPolicy, manualSource, memoryLog, model } from './actor.testing';
import { createStaticModelSource } from './modelSource';

const session = createSyntheticSession({ seed: 11, markets: 3, eventsPerMarket: 2500, settle: true });
const BASE = { cadence: { everyMs: 1000 }, sizesCenti: [100, 500], positionLimitCenti: 1000 } as const;
const SETUP = resolveTradingSetup(BASE);

function run(setup: TradingSetup, options: { salt?: number; risk?: Parameters<typeof createActor>[0]['risk'] } = {}) {
  const state = createSharedOrderbookState();
  const log = memoryLog();
  const events: ActorEvent[] = [];
  const m = model(setup, 1, hashPolicy(setup, options.salt ?? 1));
  const actor = createActor({
    mode: 'paper',
    state,
    models: createStaticModelSource(m),
    rng: createRng(3),
    log,
    onEvent: (e) => events.push(e),
    ...(options.risk === undefined ? {} : { risk: options.risk }),
  });
  return { state, log, events, actor, policies: new Map([[m.id, m.policy]]) };
}

describe('the live actor', () => {
  it("refuses any mode but 'paper' (LIVE_MODE_FORBIDDEN)", () => {
    const state = createSharedOrderbookState();
    for (const mode of ['live', 'production', '']) {
      let error: unknown;
      try {
        createActor({ mode, state, models: createStaticModelSource(model(SETUP, 1)), rng: createRng(1) });
      } catch (e) {
        error = e;
      }
      expect(isKflowError(error, 'LIVE_MODE_FORBIDDEN')).toBe(true);
    }
  });

  it.each([
    ['a 1 s grid', SETUP],
    ['a 1 s grid with 250 ms order latency', resolveTradingSetup({ ...BASE, latency: { baseMs: 250 } })],
    ['every event, taker kinds only', resolveTradingSetup({ cadence: 'event', sizesCenti: [100], positionLimitCenti: 300, tradingKinds: ['BUY_YES_NOW', 'SELL_YES_NOW', 'BUY_NO_NOW', 'SELL_NO_NOW'] })],
  ] as const)('decides exactly as the env replays it (%s): every logged decision matches, bit for bit', async (_, setup) => {
    const { state, log, actor, policies } = run(setup);
    await actor.start();
    feed(state, session, { onSettle: (t, s) => actor.settle(t, s.result, s.yesPayoutUnits) });
    const summary = await actor.stop();
    const report = audit(session, setup, log, policies);
    expect(report).toMatchObject({ mismatches: 0, firstMismatch: null, markets: 3, unfinished: 0 });
    expect(report.decisions).toBe(log.rows.length);
    expect(report.pnlLiveMicros).toBe(report.pnlReplayMicros);
    expect(report.pnlLiveMicros).toBe(summary.pnlMicros);
    // Not vacuous: the policy traded, as taker and (with WAIT kinds) as maker, and every market settled.
    const decisions = log.decisions();
    const fills = decisions.flatMap((d) => d.outcome?.fills ?? []);
    expect(summary.orders).toBeGreaterThan(50);
    expect(fills.length).toBeGreaterThan(30);
    if (setup.tradingKinds.includes('BUY_YES_WAIT')) expect(fills.some((f) => !f.isTaker)).toBe(true);
    expect(summary.decisions).toBe(log.rows.length);
    // Decisions on the grid: tick k of a market at its first snapshot + k × cadence.
    if (setup.cadence !== 'event') {
      const every = setup.cadence.everyMs;
      for (const series of session.markets) {
        const mine = decisions.filter((d) => d.market === series.ticker);
        mine.forEach((d, k) => expect(d.tsMs).toBe(series.initialTsMs + k * every));
      }
    }
  });

  it('the audit catches a perturbed observation and names the decision and the feature', async () => {
    const { state, log, actor, policies } = run(SETUP);
    await actor.start();
    feed(state, session, { onSettle: (t, s) => actor.settle(t, s.result, s.yesPayoutUnits) });
    await actor.stop();
    const row = log.rows[40]!;
    const decision = decodeDecision(row.details, row.executionResult);
    const observation = decision.observation.slice();
    observation[3] = observation[3]! + 1e-6; // one feature, a hair off
    log.rows[40] = { ...row, details: encodeDecision({ ...decision, observation }).details };
    const report = audit(session, SETUP, log, policies);
    expect(report.mismatches).toBeGreaterThanOrEqual(1);
    expect(report.firstMismatch).toMatchObject({ market: row.market, step: row.details['step'], field: 'observation', feature: 'depthYes' });
  });

  it('hot reload: swaps at a decision, keeps positions and orders, misses no tick, and the audit holds across it', async () => {
    const state = createSharedOrderbookState();
    const log = memoryLog();
    const events: ActorEvent[] = [];
    const v1 = model(SETUP, 1);
    const source = manualSource(v1);
    const actor = createActor({ mode: 'paper', state, models: source, rng: createRng(3), log, onEvent: (e) => events.push(e) });
    await actor.start();
    const all = [...sessionEvents(session)];
    const half = Math.floor(all.length / 2);
    for (const e of all.slice(0, half)) state.applyEvent(e);
    const positionBefore = actor.paper.getPositions().ok;
    const v2 = model(SETUP, 2);
    source.deploy(async () => v2, 2);
    await new Promise((resolve) => setTimeout(resolve, 0)); // the load resolves off the decision path
    for (const e of all.slice(half)) state.applyEvent(e);
    for (const series of session.markets) if (series.settlement) actor.settle(series.ticker, series.settlement.result, series.settlement.yesPayoutUnits);
    const summary = await actor.stop();
    expect(positionBefore).toBe(true);
    expect(summary.modelVersions).toEqual([1, 2]);
    expect(summary.reloads).toHaveLength(1);
    expect(summary.reloads[0]).toMatchObject({ version: 2, missedTicks: 0 });
    const decisions = log.decisions();
    // Per market: steps 0..K without a hole; v1 first, then only v2.
    for (const series of session.markets) {
      const mine = decisions.filter((d) => d.market === series.ticker).sort((a, b) => a.step - b.step);
      mine.forEach((d, k) => expect(d.step).toBe(k));
      const versions = mine.map((d) => d.model.version);
      const firstV2 = versions.indexOf(2);
      expect(firstV2).toBeGreaterThan(0);
      expect(versions.slice(firstV2).every((v) => v === 2)).toBe(true);
    }
    const report = audit(session, SETUP, log, new Map([[v1.id, v1.policy], [v2.id, v2.policy]]));
    expect(report).toMatchObject({ mismatches: 0, firstMismatch: null });
  });

  it('refuses incompatible, broken and unloadable models while the running one keeps trading', async () => {
    const state = createSharedOrderbookState();
    const events: ActorEvent[] = [];
    const v1 = model(SETUP, 1);
    const source = manualSource(v1);
    const actor = createActor({ mode: 'paper', state, models: source, rng: createRng(3), onEvent: (e) => events.push(e) });
    await actor.start();
    const all = [...sessionEvents(session)];
    for (const e of all.slice(0, 2000)) state.applyEvent(e);
    const tick = async () => new Promise((resolve) => setTimeout(resolve, 0));
    const otherCadence = resolveTradingSetup({ ...BASE, cadence: { everyMs: 2000 } });
    source.deploy(async () => model(otherCadence, 2), 2); // trained for another cadence
    await tick();
    source.deploy(async () => ({ ...model(SETUP, 3), policy: { ...hashPolicy(SETUP), observationSize: OBSERVATION_SIZE + 1 } }), 3);
    await tick();
    source.deploy(async () => ({ ...model(SETUP, 4), policy: { ...hashPolicy(SETUP), act: () => Number.NaN } }), 4); // trial inference fails
    await tick();
    source.deploy(async () => Promise.reject(new Error('weights file does not match the manifest')), 5); // a corrupt checkpoint
    await tick();
    source.deploy(async () => ({ ...model(SETUP, 6), setup: { ...SETUP, featureSetVersion: 'kflow-features/0' } }), 6);
    await tick();
    const decisionsBefore = actor.summary().decisions;
    for (const e of all.slice(2000, 4000)) state.applyEvent(e);
    const summary = await actor.stop();
    expect(summary.refusals.map((r) => r.version)).toEqual([2, 3, 4, 5, 6]);
    expect(summary.refusals[0]!.reason).toMatch(/cadence/);
    expect(summary.refusals[1]!.reason).toMatch(/observes 28 floats/);
    expect(summary.refusals[2]!.reason).toMatch(/trial inference returned NaN/);
    expect(summary.refusals[3]!.reason).toMatch(/cannot load: weights file/);
    expect(summary.refusals[4]!.reason).toMatch(/feature set kflow-features\/0/);
    expect(summary.modelVersions).toEqual([1]);
    expect(summary.decisions).toBeGreaterThan(decisionsBefore); // still trading
    expect(events.filter((e) => e.type === 'refused')).toHaveLength(5);
  });

  it('does not decide on a stale book: HOLD without asking the policy until the resync snapshot', async () => {
    const { state, events, actor } = run(SETUP);
    await actor.start();
    const made = () => events.flatMap((e) => (e.type === 'decision' ? [e.record] : [])); // in decision order
    const all = [...sessionEvents(session)];
    for (const e of all.slice(0, 1500)) state.applyEvent(e);
    const beforeGap = made().length;
    state.resetSequences(); // what a reconnect or a sequence gap does: every book stale
    for (const e of all.slice(1500, 1800)) state.applyEvent(e);
    // Every market's resync: a fresh snapshot of its current book.
    for (const series of session.markets) {
      const book = state.book(series.ticker)!;
      state.applyEvent({ kind: 'snapshot', ticker: series.ticker, tsMs: all[1799]!.tsMs, yes: book.levels('yes'), no: book.levels('no') });
    }
    const atResync = made().length;
    for (const e of all.slice(1800, 2600)) state.applyEvent(e);
    const summary = await actor.stop();
    const decisions = made();
    const stale = decisions.slice(beforeGap, atResync);
    expect(stale.length).toBeGreaterThan(10);
    for (const d of stale) expect(d).toMatchObject({ override: 'stale', policyAction: null, action: 0, order: null });
    expect(summary.overrides.stale).toBe(stale.length);
    expect(decisions.slice(0, beforeGap).some((d) => d.override === 'stale')).toBe(false);
    const after = decisions.slice(atResync);
    expect(after.length).toBeGreaterThan(10);
    expect(after.every((d) => d.override !== 'stale' && d.policyAction !== null)).toBe(true);
  });

  it('stops trading at the session loss limit: cancels open orders, then holds, and says so', async () => {
    // A policy that always takes liquidity pays spread and fees: it loses steadily.
    const taker = (setup: TradingSetup) =>
      hashPolicy(setup, 0, (allowed) => allowed.find((a) => a >= 1 && a <= 4 * setup.sizesCenti.length) ?? allowed[0]!);
    const state = createSharedOrderbookState();
    const log = memoryLog();
    const events: ActorEvent[] = [];
    const m = model(SETUP, 1, taker(SETUP));
    const actor = createActor({
      mode: 'paper',
      state,
      models: createStaticModelSource(m),
      rng: createRng(3),
      log,
      onEvent: (e) => events.push(e),
      risk: { sessionLossLimitMicros: 500_000 },
    });
    await actor.start();
    feed(state, session);
    const summary = await actor.stop();
    const halt = events.find((e) => e.type === 'halt');
    expect(halt).toMatchObject({ type: 'halt', limitMicros: 500_000 });
    expect(summary.halted).toBe(true);
    const decisions = events.flatMap((e) => (e.type === 'decision' ? [e.record] : [])); // in decision order
    const haltedAt = decisions.findIndex((d) => d.override === 'halted' || d.override === 'loss-limit');
    expect(haltedAt).toBeGreaterThan(0);
    expect(events.findIndex((e) => e.type === 'halt')).toBeLessThan(events.findIndex((e) => e.type === 'decision' && e.record === decisions[haltedAt]));
    // After the limit: no policy decision, no new order; open orders canceled (CANCEL_ALL) where there were any.
    for (const d of decisions.slice(haltedAt)) expect(d).toMatchObject({ policyAction: null, order: null });
    expect(summary.overrides.halted).toBeGreaterThan(10);
    expect(log.rows).toHaveLength(decisions.length);
  });

  it('settles a market on its settlement: pays out, completes the last decision, decides no more', async () => {
    const { state, log, events, actor } = run(SETUP);
    await actor.start();
    const series = session.markets[0]!;
    let settledAt = -1;
    feed(state, session, {
      onSettle: (t, s) => {
        if (t !== series.ticker) return;
        actor.settle(t, s.result, s.yesPayoutUnits);
        settledAt = log.rows.length;
      },
    });
    await actor.stop();
    const mine = log.decisions().filter((d) => d.market === series.ticker);
    const last = mine[mine.length - 1]!;
    expect(settledAt).toBeGreaterThan(0);
    expect(last.outcome).not.toBeNull();
    expect(last.outcome!.positionCenti).toBe(0); // paid out
    expect(events.some((e) => e.type === 'settled' && e.market === series.ticker)).toBe(true);
    const position = actor.paper.getPositions({ ticker: series.ticker, settlement_status: 'settled' });
    expect(position.ok && position.body.market_positions).toHaveLength(1);
  });

  it('risk limits override the policy with HOLD and log the reason', async () => {
    const space = createActionSpace({ sizesCenti: SETUP.sizesCenti });
    const waitBuy = encodeAction(space, 'BUY_YES_WAIT', 0);
    const bigBuy = encodeAction(space, 'BUY_YES_NOW', 1);
    const rests = hashPolicy(SETUP, 0, (allowed, h) => (allowed.includes(waitBuy) && h % 2 === 0 ? waitBuy : allowed.includes(bigBuy) ? bigBuy : 0));
    const state = createSharedOrderbookState();
    const log = memoryLog();
    const actor = createActor({
      mode: 'paper',
      state,
      models: createStaticModelSource(model(SETUP, 1, rests)),
      rng: createRng(3),
      log,
      risk: { maxOpenOrders: 1, maxPositionCenti: 300 },
    });
    await actor.start();
    feed(state, session);
    const summary = await actor.stop();
    expect(summary.overrides['max-open-orders']).toBeGreaterThan(0);
    expect(summary.overrides['position-limit']).toBeGreaterThan(0);
    for (const d of log.decisions()) {
      if (d.override === 'max-open-orders' || d.override === 'position-limit') expect(d).toMatchObject({ action: 0, order: null });
    }
    for (const series of session.markets) expect(Math.abs(actor.paper.marketPosition(series.ticker)!.positionCenti)).toBeLessThanOrEqual(300);
  });

  it('validateModel: the checks a deployment must pass', () => {
    expect(validateModel(model(SETUP, 1), undefined)).toBeUndefined();
    expect(validateModel(model(SETUP, 1), SETUP)).toBeUndefined();
    expect(validateModel(model(SETUP, 1), resolveTradingSetup({ ...BASE, positionLimitCenti: 100 }))).toMatch(/positionLimitCenti/);
    expect(validateModel({ ...model(SETUP, 1), policy: { ...hashPolicy(SETUP), actionCount: 10 } }, undefined)).toMatch(/acts in 10 actions, its setup has 18/);
    expect(validateModel({ ...model(SETUP, 1), policy: { ...hashPolicy(SETUP), act: () => 5 } }, undefined)).toMatch(/not an allowed action/);
    expect(
      validateModel({ ...model(SETUP, 1), policy: { ...hashPolicy(SETUP), act: () => { throw new Error('boom'); } } }, undefined),
    ).toMatch(/trial inference failed: boom/);
  });

  it('start() refuses a first model that cannot trade, and starts nothing', async () => {
    const state = createSharedOrderbookState();
    const broken = { ...model(SETUP, 1), policy: { ...hashPolicy(SETUP), observationSize: 3 } };
    const actor = createActor({ mode: 'paper', state, models: createStaticModelSource(broken), rng: createRng(1) });
    await expect(actor.start()).rejects.toMatchObject({ code: 'MODEL_REFUSED' });
    expect(() => actor.paper).toThrow(/not started/);
  });
});
