/**
 * Codes thrown by @kflow/paper (programmer errors and broken invariants). Expected outcomes, such as a
 * rejected order or an infeasible action, are returned as data instead.
 */
export type PaperErrorCode =
  | 'LIVE_MODE_FORBIDDEN'
  | 'INVALID_ARGUMENT'
  | 'UNKNOWN_FEE_TYPE'
  | 'UNKNOWN_MARKET'
  | 'UNKNOWN_ACTION'
  | 'MARKET_SETTLED';
