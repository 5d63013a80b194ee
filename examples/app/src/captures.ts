import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { basename } from 'node:path';
import { createInterface } from 'node:readline';
import { type SessionData, sessionDataFromCapture } from '@kflow/orderbook';

/** Streams a JSONL capture file into the env's columnar `SessionData` (session id = file name). */
export async function loadCaptureSession(path: string): Promise<SessionData> {
  await access(path);
  const lines = createInterface({ input: createReadStream(path, 'utf8'), crlfDelay: Number.POSITIVE_INFINITY });
  return sessionDataFromCapture(lines, { id: basename(path) });
}
