import type { ActorEvent, ActorRiskLimits } from '@kflow/actor';
import { KflowError } from '@kflow/orderbook';
import type { IngestDatabase, KalshiSigner, SessionEnvironment } from '@kflow/ingest';
import type { ExchangeServer } from '@kflow/sim';
import { type PaperReport, type PaperSession, resolveModelSource, startPaperSession } from '../paperTrading';

/** What the controller reports: the actor's events and its own `started` / `stopped`. */
export type ControllerEvent = ActorEvent | { readonly type: 'started' | 'stopped'; readonly detail: Readonly<Record<string, unknown>> };

/** Where a paper session's frames come from (see `resolveSource` of `kflow collect`). */
export interface PaperSource {
  readonly url: string;
  readonly signer?: KalshiSigner | undefined;
  readonly environment: SessionEnvironment;
  readonly markets: readonly string[];
  /** The simulator's exchange, when the source is one started here. */
  readonly server?: ExchangeServer | undefined;
}

export interface PaperControllerOptions {
  readonly db: IngestDatabase;
  readonly spillDir: string;
  /** A fresh source per session (a simulated exchange is single-use). */
  readonly source: () => Promise<PaperSource>;
  /** The registry name (or checkpoint directory) traded when `start` names none. */
  readonly model: string | undefined;
  readonly seed: number;
  readonly risk?: ActorRiskLimits;
  /** Sees every actor event of every session, and the controller's own `started` / `stopped`. */
  readonly onEvent: (event: ControllerEvent) => void;
  /** Called when a session starts, with its books (for the order-book stream). */
  readonly onSession: (session: PaperSession) => void;
}

/**
 * Starts and stops paper sessions (collector + actor on one set of books) on behalf of the control API;
 * at most one runs. A simulated source's session also stops when its markets have settled.
 */
export class PaperController {
  private current: { session: PaperSession; source: PaperSource } | undefined;
  private starting: Promise<PaperSession> | undefined;
  private readonly waiting: ((report: PaperReport) => void)[] = [];
  /** The last finished session's report. */
  last: PaperReport | undefined;

  constructor(private readonly options: PaperControllerOptions) {}

  get session(): PaperSession | undefined {
    return this.current?.session;
  }

  /** Starts a session trading `model` (default: the configured one). Throws when one runs or no model is known. */
  async start(model?: string): Promise<PaperSession> {
    if (this.current !== undefined || this.starting !== undefined) throw new KflowError<ControllerErrorCode>('ACTOR_RUNNING', 'the actor is already running: stop it first');
    const name = model ?? this.options.model;
    if (name === undefined) throw new KflowError<ControllerErrorCode>('NO_MODEL', 'no model to trade: pass {"model": NAME}');
    this.starting = (async () => {
      const o = this.options;
      const source = await o.source();
      try {
        const session = await startPaperSession({
          db: o.db,
          spillDir: o.spillDir,
          url: source.url,
          ...(source.signer === undefined ? {} : { signer: source.signer }),
          environment: source.environment,
          markets: source.markets,
          models: await resolveModelSource(o.db, name),
          seed: o.seed,
          onEvent: o.onEvent,
          ...(o.risk === undefined ? {} : { risk: o.risk }),
        });
        this.current = { session, source };
        o.onSession(session);
        o.onEvent({ type: 'started', detail: { sessionId: session.sessionId, episodeId: session.episodeId, model: name } });
        void source.server?.finished.then(() => setTimeout(() => void this.stopIf(session), 500));
        return session;
      } catch (error) {
        await source.server?.close();
        throw error;
      }
    })();
    try {
      return await this.starting;
    } finally {
      this.starting = undefined;
    }
  }

  /** Stops the running session (cancel, flush, finish the episode) and returns its report. */
  async stop(): Promise<PaperReport> {
    const running = this.current;
    if (running === undefined) throw new KflowError<ControllerErrorCode>('ACTOR_NOT_RUNNING', 'the actor is not running');
    this.current = undefined;
    const report = await running.session.stop();
    await running.source.server?.close();
    this.last = report;
    for (const resolve of this.waiting.splice(0)) resolve(report);
    this.options.onEvent({ type: 'stopped', detail: { sessionId: report.sessionId, episodeId: report.episodeId, decisions: report.actor.decisions } });
    return report;
  }

  /** Resolves with the report of the running session once it stops (by `stop`, the API, or its market's end). */
  stopped(): Promise<PaperReport> {
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  private async stopIf(session: PaperSession): Promise<void> {
    if (this.current?.session === session) await this.stop();
  }
}

/** Refusals of the controller (HTTP 409 / 400 in the API). */
export type ControllerErrorCode = 'ACTOR_RUNNING' | 'ACTOR_NOT_RUNNING' | 'NO_MODEL';
