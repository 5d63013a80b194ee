import { createRng } from '@kflow/orderbook';
import { it } from 'vitest';
import { createKalshiEnv } from './kalshiEnv';
import { createSyntheticSession } from './syntheticSession';
it('speed', () => {
  const env = createKalshiEnv({ sessions: [createSyntheticSession({ seed: 1, markets: 4, eventsPerMarket: 50000 })] });
  const rng = createRng(3);
  env.reset({ seed: 1 });
  let steps = 0; let sum = 0; let fills = 0; let infeasible = 0;
  const t0 = performance.now();
  while (steps < 400000) {
    const r = env.step(rng.int(env.actionSpace.n));
    steps++; sum += r.reward; fills += r.info.fills.length; if (r.info.infeasible) infeasible++;
    if (r.terminated || r.truncated) env.reset();
  }
  const dt = performance.now() - t0;
  console.log('steps/s', steps / dt * 1000, 'mean reward', sum / steps, 'fills', fills, 'infeasible', infeasible);
  const t1 = performance.now();
  for (let i = 0; i < 20000; i++) env.reset();
  console.log('reset us', (performance.now() - t1) / 20000 * 1000);
});
