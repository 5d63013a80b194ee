import { createRng } from '@kflow/orderbook';
import { createKalshiEnv, createSyntheticSession } from '@kflow/env';
const env = createKalshiEnv({ sessions: [createSyntheticSession({ seed: 1, markets: 4, eventsPerMarket: 50000 })] });
const rng = createRng(3);
env.reset({ seed: 1 });
for (let rep = 0; rep < 3; rep++) {
let steps = 0;
const t0 = performance.now();
while (steps < 400000) {
  const r = env.step(rng.int(env.actionSpace.n));
  steps++;
  if (r.terminated || r.truncated) env.reset();
}
console.log('steps/s', steps / (performance.now() - t0) * 1000);
}
