import { createRng } from '@kflow/orderbook';
import { describe, expect, it } from 'vitest';
import { RolloutBuffer } from './rolloutBuffer';

function filled() {
  const buffer = new RolloutBuffer({ nSteps: 3, nEnvs: 2, observationSize: 2, actionDims: 1, maskSize: 2 });
  for (let t = 0; t < 3; t++) {
    buffer.add({
      observations: Float32Array.of(10 * t, 10 * t + 1, 10 * t + 2, 10 * t + 3),
      actions: Int32Array.of(t, t + 1),
      rewards: [1, 2],
      episodeStarts: Uint8Array.of(t === 0 ? 1 : 0, 0),
      values: Float32Array.of(0.5, 0.5),
      logProbs: Float32Array.of(-1, -2),
      masks: Uint8Array.of(1, 0, 0, 1),
      // env 1's middle step is an autoreset entry
      valid: Uint8Array.of(1, t === 1 ? 0 : 1),
    });
  }
  return buffer;
}

describe('RolloutBuffer', () => {
  it('stores steps [step][env] and refuses to overflow', () => {
    const buffer = filled();
    expect(buffer.full).toBe(true);
    expect(Array.from(buffer.observations.subarray(4, 8))).toEqual([10, 11, 12, 13]);
    expect(Array.from(buffer.actions)).toEqual([0, 1, 1, 2, 2, 3]);
    expect(Array.from(buffer.valid)).toEqual([1, 1, 1, 0, 1, 1]);
    expect(() => buffer.add({} as never)).toThrow(/full/);
    buffer.reset();
    expect(buffer.pos).toBe(0);
  });

  it('shuffles only valid entries (a permutation) and gathers their rows', () => {
    const buffer = filled();
    const indices = new Int32Array(buffer.size);
    const count = buffer.shuffledValidIndices(createRng(1), indices);
    expect(count).toBe(5);
    expect(Array.from(indices.subarray(0, count)).sort()).toEqual([0, 1, 2, 4, 5]);
    const obs = new Float32Array(4);
    const actions = new Int32Array(2);
    const masks = new Uint8Array(4);
    buffer.gather(Int32Array.of(5, 2), 0, 2, obs, actions, masks);
    expect(Array.from(obs)).toEqual([22, 23, 10, 11]);
    expect(Array.from(actions)).toEqual([3, 1]);
    expect(Array.from(masks)).toEqual([0, 1, 1, 0]);
  });

  it('requires masks when created with a mask size', () => {
    const buffer = new RolloutBuffer({ nSteps: 1, nEnvs: 1, observationSize: 1, actionDims: 1, maskSize: 2 });
    const step = { observations: new Float32Array(1), actions: new Int32Array(1), rewards: [0], episodeStarts: new Uint8Array(1), values: new Float32Array(1), logProbs: new Float32Array(1) };
    expect(() => buffer.add(step)).toThrow(/masks/);
  });
});
