// The continuous loop: paper-trade the deployed model session after session (each one recorded), retrain on
// a schedule in job threads, and let the gate decide whether the actor reloads a new model.
import type { ActorRiskLimits } from '@kflow/actor';
import type { StorageOptions } from './commands/collect';
import { startJobWorker } from './jobs/jobWorker';
import type { JobQueue } from './jobs/queue';
import type { PaperReport } from './paperTrading';
import { type RetrainDecision, retrain } from './retrain';
import { type ControllerEvent, PaperController, type PaperSource } from './server/paperController';
import type { Webhooks } from './webhooks';

/** When a retrain cycle is due: after this many recorded sessions, or this long after the last one began. */
export type RetrainSchedule = { readonly sessions: number } | { readonly everyMs: number };

/** What the loop reports as it goes (`kflow loop --json` prints each). */
export type LoopEvent =
  | { readonly type: 'session'; readonly index: number; readonly sessionId: string; readonly report: PaperReport }
  | { readonly type: 'retrain-started'; readonly index: number; readonly afterSession: number }
  | { readonly type: 'decision'; readonly index: number; readonly decision: RetrainDecision }
  | { readonly type: 'retrain-failed'; readonly index: number; readonly error: string };

/** Options of {@link runLoop}. */
export interface LoopOptions {
  /** The queue the retrain jobs go to; its database records the sessions and holds the registry. */
  readonly queue: JobQueue;
  /** How job threads open that database (`--db` / `--data-dir`). */
  readonly storage: StorageOptions;
  /** Where this process's job threads write candidate checkpoints. */
  readonly modelsDir: string;
  /** The registry name traded (its deployment, reloaded on every promotion) and retrained. */
  readonly name: string;
  /** The source of session `index` (0, 1, ...): a simulated exchange per session, or a live feed. */
  readonly source: (index: number) => Promise<PaperSource>;
  /** Stop a session after this long (a live feed never ends by itself); simulated sessions end at settlement. */
  readonly sessionMs?: number;
  readonly schedule: RetrainSchedule;
  /** A retrain cycle's settings (see `retrain`). */
  readonly retrain: {
    readonly trainSessions: number;
    readonly evalSessions: number;
    readonly config?: Readonly<Record<string, unknown>>;
    readonly timesteps?: number;
    readonly episodes: number;
    readonly threshold: number;
  };
  readonly seed: number;
  readonly risk?: ActorRiskLimits;
  readonly webhooks?: Webhooks;
  /** Stop after this many sessions (default: until `stop`). */
  readonly maxSessions?: number;
  readonly onEvent?: (event: LoopEvent) => void;
  /** Every actor event of every session. */
  readonly onActorEvent?: (event: ControllerEvent) => void;
}

/** A running loop. */
export interface Loop {
  /** The paper controller (for the control server's streams and API). */
  readonly controller: PaperController;
  /** Asks the loop to end after the running session; the promise settles when it has. */
  stop(): Promise<LoopSummary>;
  /** Settles when the loop ended (by `stop` or `maxSessions`). */
  readonly done: Promise<LoopSummary>;
}

export interface LoopSummary {
  readonly sessions: number;
  readonly decisions: readonly RetrainDecision[];
  readonly retrainFailures: number;
}

/**
 * Runs the loop: session after session, the actor trades `name`'s deployment (a promotion reloads it at
 * its next decision) while each session is recorded; when the schedule says so, a retrain cycle runs in the
 * background (its training and evaluation jobs in this process's job threads, or on `kflow worker`s), never
 * on the actor's event loop. A loss-limit halt and a failed session are sent to the webhooks.
 *
 * @example
 * const loop = runLoop({ db, spillDir, queue, modelsDir, name: 'ppo', source, schedule: { sessions: 3 }, retrain: {...}, seed: 0 });
 * await loop.done;
 */
export async function runLoop(o: LoopOptions): Promise<Loop> {
  const worker = await startJobWorker({ queue: o.queue, storage: o.storage, concurrency: 2, modelsDir: o.modelsDir });
  let index = 0;
  const controller = new PaperController({
    db: o.queue.db,
    spillDir: o.queue.dir,
    source: () => o.source(index),
    model: o.name,
    seed: o.seed,
    ...(o.risk === undefined ? {} : { risk: o.risk }),
    onEvent: (e) => {
      if (e.type === 'halt') o.webhooks?.send('loss_limit_stop', { name: o.name, pnl: e.pnlMicros / 1e6, limit: e.limitMicros / 1e6 });
      o.onActorEvent?.(e);
    },
    onSession: () => {},
  });
  const decisions: RetrainDecision[] = [];
  let retrainFailures = 0;
  let stopping = false;
  let retraining: Promise<void> | undefined;
  let cycles = 0;
  let sinceRetrain = 0;
  let lastRetrainMs = Date.now();

  const due = () =>
    retraining === undefined && ('sessions' in o.schedule ? sinceRetrain >= o.schedule.sessions : Date.now() - lastRetrainMs >= o.schedule.everyMs);

  const startRetrain = (afterSession: number) => {
    const cycle = cycles++;
    sinceRetrain = 0;
    lastRetrainMs = Date.now();
    o.onEvent?.({ type: 'retrain-started', index: cycle, afterSession });
    retraining = retrain({ queue: o.queue, name: o.name, seed: o.seed + cycle, ...o.retrain, ...(o.webhooks === undefined ? {} : { webhooks: o.webhooks }) })
      .then((decision) => {
        decisions.push(decision);
        o.onEvent?.({ type: 'decision', index: cycle, decision });
      })
      .catch((error: unknown) => {
        retrainFailures++;
        o.onEvent?.({ type: 'retrain-failed', index: cycle, error: error instanceof Error ? error.message : String(error) });
      })
      .finally(() => {
        retraining = undefined;
      });
  };

  const run = async (): Promise<LoopSummary> => {
    try {
      for (; !stopping && (o.maxSessions === undefined || index < o.maxSessions); index++) {
        let session;
        try {
          session = await controller.start();
        } catch (error) {
          o.webhooks?.send('collector_failure', { name: o.name, session: index, message: error instanceof Error ? error.message : String(error) });
          throw error;
        }
        const ended = controller.stopped();
        if (stopping) void controller.stop();
        const timer = o.sessionMs === undefined ? undefined : setTimeout(() => void (controller.session === session && controller.stop()), o.sessionMs);
        const report = await ended;
        clearTimeout(timer);
        o.onEvent?.({ type: 'session', index, sessionId: report.sessionId, report });
        sinceRetrain++;
        if (due()) startRetrain(index);
      }
      await retraining;
      return { sessions: index, decisions, retrainFailures };
    } finally {
      if (controller.session !== undefined) await controller.stop();
      await worker.stop();
    }
  };
  const done = run();
  return {
    controller,
    done,
    async stop() {
      stopping = true;
      if (controller.session !== undefined) await controller.stop();
      return done;
    },
  };
}
