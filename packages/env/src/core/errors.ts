import { KflowError } from '@kflow/orderbook';

/** Codes raised by the Gymnasium-compatible core of @kflow/env. */
export type EnvErrorCode =
  /** A space was constructed with invalid bounds, sizes or shape. */
  | 'INVALID_SPACE'
  /** `step` got an action outside the action space. */
  | 'INVALID_ACTION'
  /** An action mask has the wrong length, values other than 0/1, or allows nothing. */
  | 'INVALID_ACTION_MASK'
  /** `step` was called before the first `reset` or after `terminated`/`truncated` without a `reset`. */
  | 'ENV_NEEDS_RESET'
  /** `checkEnv` found a contract violation; the message says which. */
  | 'ENV_CHECK_FAILED'
  /** A bad option or argument (programmer error). */
  | 'INVALID_ARGUMENT'
  /** A worker thread of `AsyncVectorEnv` failed: a sub-env threw, or the thread exited; `cause` says why. */
  | 'WORKER_FAILED';

/** Builds a `KflowError` with one of the env core codes. */
export function envError(code: EnvErrorCode, message: string, details?: Record<string, unknown>): KflowError<EnvErrorCode> {
  return new KflowError(code, message, details === undefined ? {} : { details });
}
