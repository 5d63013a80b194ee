import { homedir } from 'node:os';
import { join } from 'node:path';

/** kflow's directory for files that belong to no working directory: `$KFLOW_HOME`, else `~/.kflow`. */
export function kflowHome(): string {
  return process.env.KFLOW_HOME || join(homedir(), '.kflow');
}

/**
 * The spill directory of a PostgreSQL database: `<kflow home>/spill/<host>_<port>_<database>_<schema>`,
 * the same from any working directory, never holding the user or password. Two URLs that land on one
 * directory share it harmlessly: spill files are named by session and replayed only by the database
 * whose sessions name them.
 */
export function postgresSpillDir(url: string, schema: string): string {
  const u = new URL(url);
  const part = (s: string) => encodeURIComponent(s).replace(/^\./, '%2E');
  const name = [u.hostname || 'localhost', u.port || '5432', decodeURIComponent(u.pathname.slice(1)) || 'default', schema].map(part).join('_');
  return join(kflowHome(), 'spill', name);
}
