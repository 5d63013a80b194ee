import { KflowError } from '@kflow/orderbook';

/** Codes raised by @kflow/ingest. */
export type IngestErrorCode =
  | 'DEPENDENCY_NOT_INSTALLED'
  | 'INVALID_OPTIONS'
  | 'INVALID_KEY'
  | 'MIGRATION_FAILED'
  | 'DATABASE_LOCKED'
  | 'SESSION_NOT_FOUND'
  | 'EPISODE_NOT_FOUND'
  | 'MODEL_NOT_FOUND'
  | 'MODEL_NOT_DEPLOYABLE'
  | 'NO_PREVIOUS_DEPLOYMENT'
  | 'LIVE_MODE_FORBIDDEN'
  | 'QUEUE_CLOSED'
  | 'AUTH_REFUSED'
  | 'TLS_FAILED'
  | 'CONNECT_FAILED'
  | 'SUBSCRIPTION_FAILED'
  | 'DATABASE_UNAVAILABLE';

/** Throws the package's typed error. */
export function ingestError(code: IngestErrorCode, message: string, options: { cause?: unknown; details?: Record<string, unknown> } = {}): KflowError<IngestErrorCode> {
  return new KflowError<IngestErrorCode>(code, message, options);
}

/** Imports an optional peer dependency, or throws DEPENDENCY_NOT_INSTALLED naming what to install. */
export async function importOptional<T>(name: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (cause) {
    throw ingestError('DEPENDENCY_NOT_INSTALLED', `@kflow/ingest needs the optional package "${name}": run \`npm install ${name}\``, {
      cause,
      details: { package: name },
    });
  }
}
