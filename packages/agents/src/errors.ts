import { KflowError } from '@kflow/orderbook';

/** Codes raised by @kflow/agents. */
export type AgentsErrorCode =
  | 'INVALID_OPTIONS'
  | 'SHAPE_MISMATCH'
  | 'UNSUPPORTED_SPACE'
  | 'CHECKPOINT_INVALID'
  | 'CHECKPOINT_MISMATCH'
  | 'FEATURE_SET_MISMATCH'
  | 'DEPENDENCY_NOT_INSTALLED'
  | 'UNSUPPORTED_RUNTIME'
  | 'WORKER_FAILED';

/** Builds a `KflowError` with an agents code. */
export function agentsError(
  code: AgentsErrorCode,
  message: string,
  details?: Record<string, unknown>,
): KflowError<AgentsErrorCode> {
  return new KflowError(code, message, details === undefined ? {} : { details });
}
