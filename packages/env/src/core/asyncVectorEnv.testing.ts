// Worker-side env setups for the AsyncVectorEnv tests: worker threads import this module by URL.
import type { WorkerEnvSetup, WorkerEnvSpec } from './asyncVectorEnv';
import { createCartPole } from './cartPole';
import type { Env } from './env';
import { ScriptedEnv, type ScriptedInfo } from './env.testing';
import { RecordEpisodeStatistics } from './recordEpisodeStatistics';
import { type Box, type Discrete, MultiDiscrete } from './spaces';

/** Options of {@link setupScriptedEnvs}; sub-env `i` is a `ScriptedEnv` of `lengths[i]` steps. */
export interface ScriptedWorkerOptions {
  readonly lengths: readonly number[];
  /** Sub-envs whose episodes end truncated (the others terminate). */
  readonly truncating?: readonly number[];
  /** Sub-envs that send action masks. */
  readonly masked?: readonly number[];
  /** Wrap each sub-env in `RecordEpisodeStatistics` (infos then carry `episode`). */
  readonly statistics?: boolean;
  /** Int32 counters of `close()` calls, one per sub-env, shared with the test. */
  readonly closes?: SharedArrayBuffer;
  /** Sub-env `index` fails on its `step`-th step: throws, or ends its worker thread with exit code 3. */
  readonly fault?: { readonly index: number; readonly step: number; readonly kind: 'throw' | 'exit' };
}

export const setupScriptedEnvs: WorkerEnvSetup<ScriptedWorkerOptions, Box, Discrete, ScriptedInfo> = (o) => (i) => {
  const closes = o.closes === undefined ? undefined : new Int32Array(o.closes);
  const scripted = new ScriptedEnv({
    length: o.lengths[i]!,
    endWith: o.truncating?.includes(i) ? 'truncated' : 'terminated',
    masks: o.masked?.includes(i) ?? false,
  });
  const inner: Env<Box, Discrete, ScriptedInfo> = o.statistics ? new RecordEpisodeStatistics(scripted) : scripted;
  let steps = 0;
  return {
    observationSpace: inner.observationSpace,
    actionSpace: inner.actionSpace,
    reset: (options) => inner.reset(options),
    step(action) {
      steps++;
      if (o.fault?.index === i && o.fault.step === steps) {
        if (o.fault.kind === 'exit') process.exit(3);
        throw new Error(`scripted fault in sub-env ${i} at step ${steps}`);
      }
      return inner.step(action);
    },
    close() {
      if (closes !== undefined) Atomics.add(closes, i, 1);
      inner.close();
    },
  };
};

/** CartPole whose action is `MultiDiscrete([2, 3])`: element 0 is CartPole's action, element 1 is ignored. */
export const setupMultiDiscreteEnvs: WorkerEnvSetup<Record<string, never>, Box, MultiDiscrete> = () => () => {
  const inner = createCartPole();
  return {
    observationSpace: inner.observationSpace,
    actionSpace: new MultiDiscrete([2, 3]),
    reset: (options) => inner.reset(options),
    step: (action) => inner.step(action[0]!),
    close: () => inner.close(),
  };
};

/** The spec of one of this module's setups. */
export function testingSpec<Options>(exportName: string, options: Options): WorkerEnvSpec<Options> {
  return { module: import.meta.url, exportName, options };
}
