import { F, FEATURE_SET_VERSION, FEATURE_SPEC, OBSERVATION_SIZE } from '@kflow/features';
import { type Rng, type SessionData, createRng, createSessionDataBuilder } from '@kflow/orderbook';
import { encodeAction } from '@kflow/paper';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkEnv } from '../core/checkEnv';
import { randomMasked } from '../core/env.testing';
import { SyncVectorEnv } from '../core/syncVectorEnv';
import { type KalshiEnvOptions, MarketAgnosticKalshiEnv, createKalshiEnv, kalshiEnvMetadata } from './kalshiEnv';
import { curriculumSampler } from './marketSampler';
import { createSyntheticSession } from './syntheticSession';

const T0 = 1_767_225_600_000;

/**
 * YES bid 0.40, YES ask 0.45 (NO bid 0.55); then the ask side steps back to 0.50 and a YES bid appears at
 * 0.45, so buying at the ask and later selling at the bid happen at the same price.
 */
function roundTripSession(settle?: 'yes' | 'no'): SessionData {
  const b = createSessionDataBuilder('rt');
  const ticker = 'RT';
  b.add({ kind: 'snapshot', ticker, tsMs: T0, yes: [[4000, 10_000]], no: [[5500, 10_000], [5000, 10_000]] });
  b.add({ kind: 'delta', ticker, tsMs: T0 + 100, side: 'no', priceUnits: 5500, deltaCenti: -10_000 });
  b.add({ kind: 'delta', ticker, tsMs: T0 + 200, side: 'yes', priceUnits: 4500, deltaCenti: 10_000 });
  b.add({ kind: 'delta', ticker, tsMs: T0 + 300, side: 'yes', priceUnits: 3900, deltaCenti: 500 });
  b.add({ kind: 'trade', ticker, tsMs: T0 + 400, yesPriceUnits: 4500, countCenti: 100, takerSide: 'no' });
  b.add({ kind: 'delta', ticker, tsMs: T0 + 400, side: 'yes', priceUnits: 4500, deltaCenti: -100 });
  if (settle) b.settle(ticker, { result: settle, yesPayoutUnits: settle === 'yes' ? 10_000 : 0, tsMs: T0 + 1000 });
  return b.build();
}

function runEpisode(env: MarketAgnosticKalshiEnv, seed: number, policy: (mask: Uint8Array, rng: Rng) => number) {
  const rng = createRng(seed);
  let { info } = env.reset({ seed });
  let rewardSum = 0;
  const observations: Float32Array[] = [];
  for (;;) {
    const step = env.step(policy(info.actionMask, rng));
    rewardSum += step.reward;
    observations.push(step.observation.slice());
    info = step.info;
    if (step.terminated || step.truncated) return { rewardSum, info, observations, last: step };
  }
}

describe('MarketAgnosticKalshiEnv', () => {
  const synthetic = createSyntheticSession({ seed: 21, markets: 3, eventsPerMarket: 4000 });

  it('exposes its spaces and the metadata a policy needs', () => {
    const env = createKalshiEnv({ sessions: [synthetic], sizesCenti: [100, 300, 1000] });
    expect(env.metadata).toMatchObject({
      observationSize: OBSERVATION_SIZE,
      actionCount: 2 + 8 * 3,
      featureSetVersion: FEATURE_SET_VERSION,
      featureNames: FEATURE_SPEC.features.map((f) => f.name),
    });
    expect(env.actionSpace.n).toBe(26);
    expect(env.observationSpace.shape).toEqual([OBSERVATION_SIZE]);
    expect(env.metadata.actionKinds[0]).toBe('HOLD');
    expect(kalshiEnvMetadata({ sizesCenti: [100, 300, 1000] })).toEqual(env.metadata);
    expect(kalshiEnvMetadata().actionCount).toBe(createKalshiEnv({ sessions: [synthetic] }).actionSpace.n);
  });

  it('passes checkEnv with event and time cadences, including terminations', () => {
    const short = createSyntheticSession({ seed: 2, markets: 2, eventsPerMarket: 150, settle: true });
    for (const cadence of ['event', { everyMs: 2000 }] as const) {
      const env = createKalshiEnv({ sessions: [synthetic, short], cadence, episodeSteps: { min: 20, max: 80 } });
      const report = checkEnv(env, { seed: 3, steps: 400 });
      expect(report.actionMasks).toBe(true);
      expect(report.truncations).toBeGreaterThan(0);
      expect(report.seedSensitive).toBe(true);
    }
    const terminating = createKalshiEnv({ sessions: [short], episodeSteps: 1000 });
    expect(checkEnv(terminating, { seed: 1, steps: 400 }).terminations).toBeGreaterThan(0);
  });

  it('earns exactly 0 when it always holds', () => {
    const env = createKalshiEnv({ sessions: [synthetic], episodeSteps: 500 });
    for (let seed = 0; seed < 5; seed++) {
      const { rewardSum, info, observations } = runEpisode(env, seed, () => 0);
      expect(rewardSum).toBe(0);
      expect(info.pnlMicros).toBe(0);
      expect(info.trades).toBe(0);
      expect(observations.length).toBe(500);
    }
  });

  it('a round trip at the same price earns exactly minus its fees', () => {
    const env = createKalshiEnv({ sessions: [roundTripSession()], sizesCenti: [100] });
    const buy = encodeAction(env.actions, 'BUY_YES_NOW');
    const sell = encodeAction(env.actions, 'SELL_YES_NOW');
    env.reset({ seed: 0, options: { marketIndex: 0, startEvent: 0 } });
    const rewards: number[] = [];
    const s1 = env.step(buy); // 1 YES at the 0.45 ask
    rewards.push(s1.reward);
    expect(s1.info.fills).toEqual([{ side: 'bid', priceUnits: 4500, countCenti: 100, isTaker: true, feeMicros: 17_400 }]);
    expect(s1.info.positionCenti).toBe(100);
    rewards.push(env.step(0).reward); // the 0.45 YES bid appears
    const s3 = env.step(sell); // 1 YES at the 0.45 bid
    rewards.push(s3.reward);
    expect(s3.info.fills).toEqual([{ side: 'ask', priceUnits: 4500, countCenti: 100, isTaker: true, feeMicros: 17_400 }]);
    let last = s3;
    while (!last.terminated) {
      last = env.step(0);
      rewards.push(last.reward);
    }
    // 0.07 × 1 × 0.45 × 0.55 = $0.017325 → $0.0174 per fill, charged through @kflow/paper.
    expect(last.info.feesMicros).toBe(34_800);
    expect(last.info.pnlMicros).toBe(-34_800);
    expect(last.info.positionCenti).toBe(0);
    expect(last.info.trades).toBe(2);
    expect(rewards.reduce((a, b) => a + b, 0)).toBeCloseTo(-34_800 * 1e-4, 9);
  });

  it('rests WAIT orders in the engine and fills them as the recorded level trades through the queue', () => {
    // We join 10 contracts at the 0.40 YES bid; 10 join behind us; then the level trades and cancels down.
    const b = createSessionDataBuilder('queue');
    b.add({ kind: 'snapshot', ticker: 'Q', tsMs: T0, yes: [[4000, 1_000]], no: [[5500, 1_000]] });
    const deltas = [1_000, -1_900, -99, 499, -300, -200, 500, -300];
    deltas.forEach((d, i) => b.add({ kind: 'delta', ticker: 'Q', tsMs: T0 + 100 * (i + 1), side: 'yes', priceUnits: 4000, deltaCenti: d }));
    const session = b.build();
    const fillStep = (queueModel: 'conservative' | 'proportional') => {
      const env = createKalshiEnv({ sessions: [session], sizesCenti: [100], queueModel, rewardScale: 1 });
      env.reset({ options: { marketIndex: 0, startEvent: 0 } });
      let step = env.step(encodeAction(env.actions, 'BUY_YES_WAIT'));
      expect(step.info).toMatchObject({ infeasible: false, trades: 0 });
      expect(step.observation[F.restingBid]).toBe(1);
      for (let k = 1; ; k++) {
        if (step.info.fills.length > 0) {
          expect(step.info.fills).toEqual([{ side: 'bid', priceUnits: 4000, countCenti: 100, isTaker: false, feeMicros: 0 }]);
          expect(step.info.positionCenti).toBe(100);
          expect(step.observation[F.restingBid]).toBe(0);
          return { k, pnl: step.info.pnlMicros };
        }
        if (step.terminated) return { k: -1, pnl: 0 };
        step = env.step(0);
      }
    };
    // Proportional: the queue ahead shrinks with the level (10 of 20 → 0.5 of 1 → 0 of 0.01 contracts),
    // so the next reduction (event 5) trades through us. Conservative: reductions come from behind, 0.01 stays ahead until the level
    // empties, and we fill only when it refills and trades down again (event 8).
    // Marked at the 0.4250 mid (bid 0.40 / ask 0.45): +$0.025 on 1 contract bought at 0.40, no maker fee.
    expect(fillStep('proportional')).toEqual({ k: 5, pnl: 25_000 });
    expect(fillStep('conservative')).toEqual({ k: 8, pnl: 25_000 });
  });

  it('selling from flat never credits the sale price: SELL_* are masked, BUY_NO costs collateral', () => {
    const env = createKalshiEnv({ sessions: [roundTripSession()], sizesCenti: [100], rewardScale: 1 });
    const { info } = env.reset({ options: { marketIndex: 0, startEvent: 0 } });
    const cash = env.account.cashMicros;
    const sells = ['SELL_YES_NOW', 'SELL_NO_NOW', 'SELL_YES_WAIT', 'SELL_NO_WAIT'] as const;
    for (const kind of sells) expect(info.actionMask[encodeAction(env.actions, kind)]).toBe(0);
    const sent = env.step(encodeAction(env.actions, 'SELL_YES_NOW')); // chosen anyway: nothing happens
    expect(sent.info).toMatchObject({ infeasible: true, trades: 0, positionCenti: 0, pnlMicros: 0 });
    expect(env.account.cashMicros).toBe(cash);
    // Selling YES from flat is buying NO at 1 − p: it hits the 0.40 YES bid and pays 0.60 per contract.
    const buyNo = env.step(encodeAction(env.actions, 'BUY_NO_NOW'));
    expect(buyNo.info.fills).toEqual([{ side: 'ask', priceUnits: 4000, countCenti: 100, isTaker: true, feeMicros: 16_800 }]);
    expect(buyNo.info.positionCenti).toBe(-100);
    expect(env.account.cashMicros).toBe(cash - 600_000 - 16_800);
    // Marked at the 0.4750 YES mid (a 0.45 YES bid appeared) the NO contract is worth 0.5250.
    expect(buyNo.info.pnlMicros).toBe(525_000 - 600_000 - 16_800);
  });

  it('sends orders through the engine latency: a late taker order meets the later book', () => {
    const env = createKalshiEnv({ sessions: [roundTripSession()], sizesCenti: [100], latency: { baseMs: 150 } });
    env.reset({ seed: 0, options: { marketIndex: 0, startEvent: 0 } });
    const s1 = env.step(encodeAction(env.actions, 'BUY_YES_NOW')); // sent at T0, arrives at T0 + 150
    expect(s1.info.fills).toEqual([]);
    const s2 = env.step(0); // the event at T0 + 200 first lets the order arrive: the 0.45 ask is gone
    expect(s2.info.fills.map((f) => f.priceUnits)).toEqual([5000]);
    expect(s2.info.positionCenti).toBe(100);
  });

  it('never makes money on a market whose touch never moves (property over action sequences)', () => {
    // Deep levels come and go; the touch (0.40 / 0.45) and its sizes never change and nobody trades.
    const b = createSessionDataBuilder('static');
    b.add({ kind: 'snapshot', ticker: 'S', tsMs: T0, yes: [[4000, 5000], [3500, 100]], no: [[5500, 5000], [5000, 100]] });
    for (let i = 0; i < 200; i++) {
      const side = i % 2 ? 'yes' : 'no';
      b.add({ kind: 'delta', ticker: 'S', tsMs: T0 + 10 * i, side, priceUnits: side === 'yes' ? 3000 : 4000, deltaCenti: (i >> 1) % 2 ? -700 : 700 });
    }
    const env = createKalshiEnv({ sessions: [b.build()], sizesCenti: [100, 700], episodeSteps: 199 });
    fc.assert(
      fc.property(fc.array(fc.nat(env.actionSpace.n - 1), { minLength: 1, maxLength: 199 }), (actions) => {
        env.reset({ seed: 0, options: { marketIndex: 0, startEvent: 0 } });
        for (const a of actions) {
          const step = env.step(a);
          expect(step.info.pnlMicros).toBeLessThanOrEqual(0);
          expect(step.info.pnlMicros).toBeLessThanOrEqual(-step.info.feesMicros);
          if (step.terminated || step.truncated) break;
        }
      }),
      { numRuns: 200 },
    );
  });

  it('terminates at settlement and pays the winning side', () => {
    for (const [result, payout] of [['yes', 1_000_000], ['no', 0]] as const) {
      const env = createKalshiEnv({ sessions: [roundTripSession(result)], sizesCenti: [100], rewardScale: 1 });
      env.reset({ options: { marketIndex: 0, startEvent: 0 } });
      let step = env.step(encodeAction(env.actions, 'BUY_YES_NOW'));
      let rewards = step.reward;
      while (!step.terminated) {
        expect(step.truncated).toBe(false);
        step = env.step(0);
        rewards += step.reward;
      }
      expect(step.info.positionCenti).toBe(0);
      expect(step.info.pnlMicros).toBe(payout - 450_000 - 17_400);
      expect(rewards).toBe(step.info.pnlMicros);
      expect(() => env.step(0)).toThrow(/reset/);
    }
    // A settlement stamped before the data ends ends the episode there: the agent still decides after the
    // last event at or before it (as live, where the lifecycle frame follows that event), then it settles.
    const early = roundTripSession();
    const market = { ...early.markets[0]!, settlement: { result: 'no' as const, yesPayoutUnits: 0, tsMs: T0 + 200 } };
    const env = createKalshiEnv({ sessions: [{ id: 'early', markets: [market] }], sizesCenti: [100] });
    env.reset({ options: { marketIndex: 0, startEvent: 0 } });
    expect(env.step(0).terminated).toBe(false); // event at T0 + 100
    expect(env.step(0).terminated).toBe(false); // event at T0 + 200: a decision after it
    const settled = env.step(0); // the settlement (the event at T0 + 300 comes after it)
    expect(settled.terminated).toBe(true);
    expect(settled.info.eventIndex).toBe(2);
    // On a grid, the step that reaches the settlement time settles.
    const grid = createKalshiEnv({ sessions: [{ id: 'early', markets: [market] }], sizesCenti: [100], cadence: { everyMs: 150 } });
    grid.reset({ options: { marketIndex: 0, startEvent: 0 } });
    expect(grid.step(0).terminated).toBe(false); // to T0 + 150
    const onGrid = grid.step(0); // to T0 + 300 ≥ the settlement
    expect(onGrid.terminated).toBe(true);
    expect(onGrid.info.eventIndex).toBe(3);
  });

  it('a random policy does not earn money on a driftless market', () => {
    const sessions = [1, 2, 3].map((seed) => createSyntheticSession({ seed: 100 + seed, markets: 2, eventsPerMarket: 3000 }));
    const env = createKalshiEnv({ sessions, episodeSteps: 300 });
    const pnls: number[] = [];
    let trades = 0;
    for (let seed = 0; seed < 40; seed++) {
      const { info, observations } = runEpisode(env, seed, randomMasked);
      pnls.push(info.pnlMicros);
      trades += info.trades;
      for (const o of observations) expect(env.observationSpace.contains(o)).toBe(true);
    }
    const mean = pnls.reduce((a, b) => a + b, 0) / pnls.length;
    const sd = Math.sqrt(pnls.reduce((a, b) => a + (b - mean) ** 2, 0) / (pnls.length - 1));
    expect(trades).toBeGreaterThan(100);
    // Not significantly positive (two standard errors); spreads and fees make it negative in practice.
    expect(mean).toBeLessThan((2 * sd) / Math.sqrt(pnls.length));
  });

  it('has no constant and no duplicated feature over a realistic replay with trading', () => {
    const env = createKalshiEnv({ sessions: [createSyntheticSession({ seed: 9, markets: 3, eventsPerMarket: 6000 })], episodeSteps: 1500 });
    const samples: Float32Array[] = [];
    for (let seed = 0; seed < 6; seed++) samples.push(...runEpisode(env, seed, randomMasked).observations);
    const names = FEATURE_SPEC.features.map((f) => f.name);
    const column = (k: number) => samples.map((o) => o[k]!);
    for (let k = 0; k < OBSERVATION_SIZE; k++) {
      const c = column(k);
      expect(Math.max(...c) > Math.min(...c), `${names[k]} is constant`).toBe(true);
    }
    for (let i = 0; i < OBSERVATION_SIZE; i++) {
      for (let j = i + 1; j < OBSERVATION_SIZE; j++) {
        expect(samples.every((o) => o[i] === o[j]), `${names[i]} duplicates ${names[j]}`).toBe(false);
      }
    }
  });

  it('restores mid-session starts from checkpoints exactly', () => {
    const options: KalshiEnvOptions = { sessions: [synthetic], episodeSteps: 50 };
    const dense = createKalshiEnv({ ...options, checkpointInterval: 1 });
    const sparse = createKalshiEnv({ ...options, checkpointInterval: 10_000 });
    for (const startEvent of [0, 1, 63, 64, 65, 1234, 3999]) {
      const reset = { seed: 5, options: { marketIndex: 1, startEvent } };
      expect(dense.reset(reset).observation).toEqual(sparse.reset(reset).observation);
      for (let k = 0; k < 50; k++) {
        const a = dense.step(k % dense.actionSpace.n);
        const b = sparse.step(k % sparse.actionSpace.n);
        expect(a.observation).toEqual(b.observation);
        expect(a.reward).toBe(b.reward);
        if (a.terminated || a.truncated) break;
      }
    }
  });

  it('decides every N ms of exchange time with the cadence option', () => {
    const env = createKalshiEnv({ sessions: [synthetic], cadence: { everyMs: 5000 }, episodeSteps: 40 });
    const series = env.pool.markets[0]!.series;
    let { info } = env.reset({ options: { marketIndex: 0, startEvent: 100 } });
    let now = series.tsMs[99]!;
    for (let k = 0; k < 40; k++) {
      const step = env.step(0);
      now += 5000;
      // Every event up to the decision time has been replayed, and none after it.
      expect(series.tsMs[step.info.eventIndex - 1]!).toBeLessThanOrEqual(now);
      if (step.info.eventIndex < series.length) expect(series.tsMs[step.info.eventIndex]!).toBeGreaterThan(now);
      expect(step.info.eventIndex).toBeGreaterThanOrEqual(info.eventIndex);
      expect(step.info.tsMs).toBe(now);
      info = step.info;
      if (step.terminated || step.truncated) break;
    }
  });

  it('samples markets through a curriculum sampler', () => {
    const sessions = [createSyntheticSession({ seed: 4, markets: 6, eventsPerMarket: 500 })];
    const sampler = curriculumSampler({ minDifficulty: 0 });
    const env = createKalshiEnv({ sessions, sampler, episodeSteps: 5 });
    const easiest = env.pool.markets.reduce((best, m, i, all) => (m.stats.difficulty < all[best]!.stats.difficulty ? i : best), 0);
    const tickers = new Set<string>();
    env.reset({ seed: 1 });
    for (let i = 0; i < 20; i++) tickers.add(env.reset().info.ticker);
    expect([...tickers]).toEqual([env.pool.markets[easiest]!.series.ticker]);
    sampler.progress = 1;
    for (let i = 0; i < 60; i++) tickers.add(env.reset().info.ticker);
    expect(tickers.size).toBe(6);
  });

  it('runs under SyncVectorEnv with masks and autoreset', () => {
    const pool = createKalshiEnv({ sessions: [synthetic] }).pool; // prepared once, shared by the sub-envs
    const envs = new SyncVectorEnv(Array.from({ length: 4 }, () => () => createKalshiEnv({ sessions: pool, episodeSteps: 30 })));
    let masks = envs.reset({ seed: 3 }).actionMasks!;
    const rng = createRng(8);
    const actions = new Int32Array(4);
    const n = envs.singleActionSpace.n;
    let ends = 0;
    for (let t = 0; t < 200; t++) {
      for (let i = 0; i < 4; i++) actions[i] = randomMasked(masks.subarray(i * n, (i + 1) * n), rng);
      const r = envs.step(actions);
      masks = r.actionMasks!;
      for (let i = 0; i < 4; i++) ends += r.truncated[i]! | r.terminated[i]!;
    }
    expect(ends).toBeGreaterThanOrEqual(4 * 6);
  });

  it('restricts the agent to the allowed trading kinds (tradingKinds) without changing the action space', () => {
    const takerOnly = ['BUY_YES_NOW', 'SELL_YES_NOW', 'BUY_NO_NOW', 'SELL_NO_NOW'] as const;
    const env = createKalshiEnv({ sessions: [synthetic], cadence: { everyMs: 1000 }, episodeSteps: 200, tradingKinds: takerOnly });
    // Same shape as the unrestricted env (checkpoints stay compatible); the setup records the restriction.
    const { setup, ...shape } = env.metadata;
    const { setup: fullSetup, ...fullShape } = createKalshiEnv({ sessions: [synthetic] }).metadata;
    expect(shape).toEqual(fullShape);
    expect(setup.tradingKinds).toEqual(takerOnly);
    expect(fullSetup.tradingKinds).toHaveLength(8);
    const allowed = (i: number) => {
      const a = env.actions.actions[i]!;
      return a.intent === undefined || (takerOnly as readonly string[]).includes(a.kind);
    };
    let { info } = env.reset({ seed: 4 });
    const rng = createRng(4);
    let sawTrade = false;
    for (let t = 0; t < 200; t++) {
      info.actionMask.forEach((m, i) => expect(m === 0 || allowed(i)).toBe(true));
      const step = env.step(randomMasked(info.actionMask, rng));
      sawTrade ||= step.info.trades > 0;
      info = step.info;
      if (step.terminated || step.truncated) break;
    }
    expect(sawTrade).toBe(true);
    // A disallowed kind chosen anyway is an infeasible HOLD: no order, no fill.
    env.reset({ seed: 5 });
    const wait = env.step(encodeAction(env.actions, 'BUY_YES_WAIT'));
    expect(wait.info).toMatchObject({ infeasible: true, trades: 0 });
    expect(env.step(encodeAction(env.actions, 'CANCEL_ALL')).info.infeasible).toBe(true);
    expect(() => createKalshiEnv({ sessions: [synthetic], tradingKinds: ['HOLD'] })).toThrow(/not a trading kind/);
  });

  it('rejects bad options and actions', () => {
    expect(() => createKalshiEnv({ sessions: [synthetic], episodeSteps: { min: 5, max: 2 } })).toThrow(/episodeSteps/);
    expect(() => createKalshiEnv({ sessions: [synthetic], cadence: { everyMs: 0 } })).toThrow(/everyMs/);
    const env = createKalshiEnv({ sessions: [synthetic] });
    expect(() => env.step(0)).toThrow(/reset/);
    env.reset({ seed: 1 });
    expect(() => env.step(env.actionSpace.n)).toThrow(/not in/);
    expect(() => env.reset({ options: { marketIndex: 99 } })).toThrow(/outside/);
  });
});
