import { describe, expect, it } from 'vitest';
import { isKflowError } from '@kflow/orderbook';
import { SIM_PRESETS, resolveSimConfig } from './config';

describe('resolveSimConfig', () => {
  it('merges overrides field by field into the preset', () => {
    const c = resolveSimConfig('informed', { seed: 9, edge: 0, makers: { levels: 4 } });
    expect(c.seed).toBe(9);
    expect(c.edge).toBe(0);
    expect(c.makers.levels).toBe(4);
    expect(c.makers.lagMaxMs).toBe(SIM_PRESETS.informed.makers.lagMaxMs);
    expect(c.preset).toBe('informed');
  });

  it('rejects unknown presets and invalid fields with coded errors', () => {
    const code = (f: () => unknown) => {
      try {
        f();
      } catch (error) {
        return isKflowError(error) ? error.code : 'not a KflowError';
      }
      return 'no error';
    };
    expect(code(() => resolveSimConfig('wild'))).toBe('UNKNOWN_PRESET');
    expect(code(() => resolveSimConfig('calm', { edge: 1.5 }))).toBe('INVALID_CONFIG');
    expect(code(() => resolveSimConfig('calm', { markets: 0 }))).toBe('INVALID_CONFIG');
    expect(code(() => resolveSimConfig('calm', { takers: { hawkesBranching: 1 } }))).toBe('INVALID_CONFIG');
    expect(code(() => resolveSimConfig('calm', { preset: 'has space' }))).toBe('INVALID_CONFIG');
    expect(code(() => resolveSimConfig('calm', { tickStructure: 'deci_cent' }))).toBe('no error');
  });
});
