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

  it('has the calm, volatile and informed presets, each valid and named after itself', () => {
    expect(Object.keys(SIM_PRESETS)).toEqual(['calm', 'volatile', 'informed']);
    for (const [name, preset] of Object.entries(SIM_PRESETS)) {
      expect(resolveSimConfig(name)).toEqual(preset);
      expect(preset.preset).toBe(name);
    }
    // Presets override the calm base field by field: untouched fields keep calm's values.
    expect(SIM_PRESETS.volatile.regimes.normal).toEqual({ ...SIM_PRESETS.calm.regimes.normal, meanDurationSec: 60 });
    expect(SIM_PRESETS.informed.edge).toBe(1);
    expect(SIM_PRESETS.informed.takers.informedRestFraction).toBe(SIM_PRESETS.calm.takers.informedRestFraction);
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
    expect(code(() => resolveSimConfig('calm', { tickStructure: 'half_cent' as 'deci_cent' }))).toBe('INVALID_CONFIG');
    expect(code(() => resolveSimConfig('calm', { tickStructure: 'deci_cent' }))).toBe('no error');
  });
});
