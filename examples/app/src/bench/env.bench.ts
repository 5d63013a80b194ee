import { type Env, createCartPole, createKalshiEnv, createSyntheticSession, SyncVectorEnv } from '@kflow/env';
import type { SessionData } from '@kflow/orderbook';
import { createRng } from '@kflow/orderbook';
import type { Benchmark } from './harness';

const CARTPOLE_STEPS = 2_000_000;

/** Random actions from a seeded rng on one CartPole-v1, resetting whenever an episode ends. */
function cartPoleWorkload(): StepWorkload {
  const env = createCartPole();
  env.reset({ seed: 1 });
  const actions = new Uint8Array(CARTPOLE_STEPS);
  const rng = createRng(2);
  for (let i = 0; i < actions.length; i++) actions[i] = rng.int(2);
  return { env, actions };
}

/** Eight CartPoles behind `SyncVectorEnv` (next-step autoreset), random actions. */
function vectorWorkload() {
  const numEnvs = 8;
  const envs = new SyncVectorEnv(Array.from({ length: numEnvs }, () => () => createCartPole()));
  envs.reset({ seed: 1 });
  const rng = createRng(3);
  const batches = 4096;
  const actions = Array.from({ length: batches }, () => Int32Array.from({ length: numEnvs }, () => rng.int(2)));
  return { envs, actions, numEnvs };
}

/** A synthetic recording: 4 markets × 50,000 events (Kalshi-like books, bursts and quiet gaps). */
function kalshiSession(): SessionData {
  return createSyntheticSession({ seed: 1, markets: 4, eventsPerMarket: 50_000 });
}

/** The Kalshi env on the synthetic session, decision on every event, plus pre-drawn uniform random actions. */
function kalshiWorkload(): StepWorkload {
  const env = createKalshiEnv({ sessions: [kalshiSession()] });
  env.reset({ seed: 1 });
  const rng = createRng(4);
  const actions = Uint8Array.from({ length: 1 << 19 }, () => rng.int(env.actionSpace.n));
  return { env, actions };
}

/** Typed-array bytes of a session (levels of its snapshots counted as two 8-byte numbers). */
function sessionBytesPerEvent(session: SessionData): number {
  let bytes = 0;
  let events = 0;
  for (const m of session.markets) {
    bytes += m.tsMs.byteLength + m.kind.byteLength + m.price.byteLength + m.qty.byteLength;
    for (const snap of [m.initial, ...m.snapshots]) bytes += 16 * (snap.yes.length + snap.no.length);
    events += m.length;
  }
  return bytes / events;
}

/** One env and pre-drawn actions. */
interface StepWorkload {
  readonly env: Env;
  readonly actions: Uint8Array;
}

/** Steps `env` through the pre-drawn `actions`, resetting whenever an episode ends; returns steps per second. */
function stepsPerSec({ env, actions }: StepWorkload): number {
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < actions.length; i++) {
    const { terminated, truncated } = env.step(actions[i]!);
    if (terminated || truncated) env.reset();
  }
  return actions.length / (Number(process.hrtime.bigint() - t0) / 1e9);
}

/** Env benchmarks; the Kalshi env's benchmarks are appended to this array. */
export const envBenchmarks: readonly Benchmark[] = [
  {
    name: 'env.cartpole.stepsPerSec',
    description: 'CartPole-v1 step (single env, seeded random actions, reset when an episode ends)',
    better: 'higher',
    // The reference env must never be what bounds training speed: tens of millions of raw steps/s.
    target: 10_000_000,
    setup: cartPoleWorkload,
    run: (state) => stepsPerSec(state as StepWorkload),
  },
  {
    name: 'env.cartpole.vector8.stepsPerSec',
    description: 'SyncVectorEnv of 8 CartPole-v1 with next-step autoreset: env steps per second (8 per batch step)',
    better: 'higher',
    baseline: 'env.cartpole.stepsPerSec',
    setup: vectorWorkload,
    run: (state) => {
      const { envs, actions, numEnvs } = state as ReturnType<typeof vectorWorkload>;
      const rounds = 60;
      const t0 = process.hrtime.bigint();
      for (let r = 0; r < rounds; r++) for (const a of actions) envs.step(a);
      return (rounds * actions.length * numEnvs) / (Number(process.hrtime.bigint() - t0) / 1e9);
    },
  },
  {
    name: 'env.kalshi.stepsPerSec',
    description: 'MarketAgnosticKalshiEnv step: uniform random actions, decision on every event, features + fills + accounting, resets included',
    better: 'higher',
    target: 300_000,
    setup: kalshiWorkload,
    run: (state) => stepsPerSec(state as StepWorkload),
  },
  {
    name: 'env.kalshi.resetMicros',
    description: 'MarketAgnosticKalshiEnv reset: random market and start event (checkpoint restore + replay), microseconds',
    better: 'lower',
    target: 50,
    setup: kalshiWorkload,
    run: (state) => {
      const { env } = state as ReturnType<typeof kalshiWorkload>;
      const n = 20_000;
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < n; i++) env.reset();
      return Number(process.hrtime.bigint() - t0) / 1e3 / n;
    },
  },
  {
    name: 'env.sessionData.bytesPerEvent',
    description: 'Memory of a loaded SessionData (typed arrays + snapshot levels) per recorded event',
    better: 'lower',
    target: 32,
    warmupRuns: 0,
    runs: 1,
    setup: kalshiSession,
    run: (state) => sessionBytesPerEvent(state as SessionData),
  },
];
