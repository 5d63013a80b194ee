import { createCartPole } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { createHoldPolicy, createRandomPolicy } from './baselines';
import { evaluate } from './evaluate';

describe('evaluate and baselines', () => {
  it('reports per-episode returns of a policy; seeds make it reproducible', () => {
    const random = () => createRandomPolicy({ observationSize: 4, actionCount: 2, rng: createRng(1) });
    const a = evaluate(random(), createCartPole(), 10, { seed: 5 });
    const b = evaluate(random(), createCartPole(), 10, { seed: 5 });
    expect(a).toEqual(b);
    expect(a.returns).toHaveLength(10);
    expect(a.meanReturn).toBeGreaterThan(8);
    expect(a.meanReturn).toBeLessThan(60);
    // CartPole pays 1 per step.
    expect(a.returns).toEqual(a.lengths);
  });

  it('hold is constant; pushing one way drops the pole fast', () => {
    const hold = createHoldPolicy({ observationSize: 4, actionCount: 2, holdAction: 1 });
    expect(hold.act(new Float32Array(4))).toBe(1);
    const { meanReturn } = evaluate(hold, createCartPole(), 5);
    expect(meanReturn).toBeLessThan(15);
    expect(() => createHoldPolicy({ observationSize: 4, actionCount: 2, holdAction: 2 })).toThrow(/holdAction/);
  });

  it('random respects masks', () => {
    const random = createRandomPolicy({ observationSize: 1, actionCount: 4, rng: createRng(2) });
    for (let i = 0; i < 100; i++) expect(random.act(new Float32Array(1), Uint8Array.of(0, 0, 1, 0))).toBe(2);
  });

  it('rejects a policy of the wrong observation size', () => {
    const hold = createHoldPolicy({ observationSize: 3, actionCount: 2 });
    expect(() => evaluate(hold, createCartPole(), 1)).toThrow(/observations/);
  });
});
