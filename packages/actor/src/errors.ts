import { KflowError } from '@kflow/orderbook';

/** Codes raised by @kflow/actor. */
export type ActorErrorCode =
  /** Anything but `'paper'` was asked for: kflow never trades live. */
  | 'LIVE_MODE_FORBIDDEN'
  | 'INVALID_OPTIONS'
  /** The first model failed validation (later ones are refused and reported, and trading goes on). */
  | 'MODEL_REFUSED'
  /** Nothing is deployed under the name the actor was asked to trade. */
  | 'NO_DEPLOYED_MODEL'
  | 'ACTOR_STATE';

/** Builds a `KflowError` with an actor code. */
export function actorError(code: ActorErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}): KflowError<ActorErrorCode> {
  return new KflowError<ActorErrorCode>(code, message, options);
}
