import type { RecoveryReport } from '@kflow/ingest';

/** Whether a recovery did anything worth reporting. */
export function recoveredAnything(r: RecoveryReport): boolean {
  return r.spills.length > 0 || r.finalized.length > 0 || r.interrupted.length > 0;
}

/** One line per thing a recovery did, for the terminal. */
export function recoveryLines(r: RecoveryReport): string[] {
  return [
    ...r.spills.map(
      (s) =>
        `replayed ${s.rows} rows of session ${s.sessionId} from ${s.spillPath}` +
        (s.complete ? '' : ` (not finished: ${s.error ?? 'the database stopped taking rows'}; the rest stays for the next recovery)`),
    ),
    ...r.finalized.map((id) => `session ${id}: stored the final record its collector could not store`),
    ...r.interrupted.map(
      (s) =>
        `session ${s.id}: its collector is gone; marked interrupted, ` +
        (s.lastFrameNo === null ? 'no data stored' : `data ends at frame ${s.lastFrameNo} (${new Date(s.lastRecvMs!).toISOString()})`),
    ),
  ];
}
