/** Codes raised by @kflow/sim (thrown as `KflowError<SimErrorCode>` from @kflow/orderbook). */
export type SimErrorCode = 'INVALID_CONFIG' | 'UNKNOWN_PRESET' | 'UNKNOWN_MARKET' | 'BROKEN_INVARIANT';
