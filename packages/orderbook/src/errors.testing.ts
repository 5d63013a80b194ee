import { isKflowError } from './errors';

/** Runs `fn`, expecting a `KflowError<'INVALID_NUMBER'>`; returns its field and message (test helper). */
export function invalidNumber(fn: () => unknown): { field: unknown; message: string } {
  try {
    fn();
  } catch (error) {
    if (isKflowError(error, 'INVALID_NUMBER')) return { field: error.details.field, message: error.message };
    throw error;
  }
  throw new Error('expected INVALID_NUMBER');
}
