import { connectPostgres } from '@kflow/ingest/pg';

/** A database of its own on a PostgreSQL server, and how to drop it. */
export interface ScratchDatabase {
  readonly url: string;
  drop(): Promise<void>;
}

let created = 0;

/**
 * Creates a fresh database named `<label>_<pid>_<n>` on the server of `serverUrl` (for benches and tests that
 * need every schema the CLI creates, kflow's and the job queue's, to start empty); `drop` removes it.
 */
export async function createScratchDatabase(serverUrl: string, label: string): Promise<ScratchDatabase> {
  const name = `${label}_${process.pid}_${++created}`;
  const admin = await connectPostgres({ url: serverUrl });
  try {
    await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.query(`CREATE DATABASE ${name}`);
  } catch (error) {
    await admin.close();
    throw error;
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.href,
    async drop() {
      try {
        await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await admin.close();
      }
    },
  };
}
