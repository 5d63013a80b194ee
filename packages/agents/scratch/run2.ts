import { SyncVectorEnv, createCartPole } from '@kflow/env';
import { systemClock } from '@kflow/orderbook';
import { trainPpo, evaluate, PPO_ZOO_CARTPOLE } from '../src/index';
import { wasmBackend } from '../src/wasmBackend';
const preset = process.argv[2] ?? 'default';
const seed = Number(process.argv[3] ?? 0);
const steps = Number(process.argv[4] ?? 100000);
const nEnvs = preset === 'zoo' ? 8 : 1;
const envs = new SyncVectorEnv(Array.from({ length: nEnvs }, () => () => createCartPole()));
const t0 = Date.now();
const r = trainPpo({ envs, backend: process.env.JSB ? undefined : wasmBackend, totalTimesteps: steps, seed, clock: systemClock, ...(preset === 'zoo' ? PPO_ZOO_CARTPOLE : {}),
  onEvent: (e) => { if (e.kind === 'update' && (e.timesteps % 10240 < (preset==='zoo'?256:2048))) console.log(e.timesteps, JSON.stringify(e.metrics), 'recent', r2()); } });
function r2() { return ''; }
const secs = (Date.now() - t0) / 1000;
const ev = evaluate(r.policy, createCartPole(), 20, { seed: 10_000 });
console.log({ timesteps: r.timesteps, secs, sps: r.timesteps / secs, mean: ev.meanReturn, std: ev.stdReturn, recent: r.meanEpisodicReturn });
