import { isKflowError } from '@kflow/orderbook';
import { expect } from 'vitest';

/** Runs `fn`, expecting a `KflowError<'INVALID_ARGUMENT'>`; returns its message (test helper). */
export function invalidArgument(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    expect(isKflowError(error, 'INVALID_ARGUMENT'), String(error)).toBe(true);
    return (error as Error).message;
  }
  throw new Error('expected INVALID_ARGUMENT');
}
