/**
 * A second process for the ownership tests (run with tsx): opens the data directory given as the first
 * argument and, by the second, `write N TAG` inserts N rows tagged TAG in batches (printing `ready` after
 * the first batch), `read` prints the row count and the owner as JSON, and `notify CHANNEL PAYLOAD` sends a
 * notification.
 */
import { openPglite } from './pglite';

const [dataDir, mode, n, tag] = process.argv.slice(2);
const db = await openPglite({ dataDir: dataDir! });
await db.exec('CREATE TABLE IF NOT EXISTS rows_t (tag text, i int, PRIMARY KEY (tag, i))');
if (mode === 'write') {
  const total = Number(n);
  for (let i = 0; i < total; i += 500) {
    const ids = Array.from({ length: Math.min(500, total - i) }, (_, k) => i + k);
    await db.query('INSERT INTO rows_t SELECT $1, u FROM unnest($2::int[]) u', [tag, ids]);
    if (i === 0) process.stdout.write('ready\n');
  }
} else if (mode === 'notify') {
  await db.query(`SELECT pg_notify($1, $2)`, [n, tag]);
} else {
  const count = (await db.query('SELECT count(*)::int AS c FROM rows_t')).rows[0] as { c: number };
  process.stdout.write(`${JSON.stringify({ count: count.c, owner: db.owner })}\n`);
}
await db.close();
