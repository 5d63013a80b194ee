import { createWriteStream, type WriteStream } from 'node:fs';
import { systemTimers, type Timers } from './timers';

/** Appends raw frames to a JSONL capture as `{"recv_ms":<int>,"frame":<raw frame>}` envelopes. */
export interface CaptureRecorder {
  /** Synchronous and cheap: the line is buffered and written in the background. */
  append(raw: string, recvMs: number): void;
  /** Lines appended so far. */
  readonly lines: number;
  /** Writes everything buffered and closes the file. */
  close(): Promise<void>;
}

/**
 * Records frames in the capture format `kflow replay`, `sessionDataFromCapture` and the env read. The
 * raw text is embedded verbatim (no re-serialisation), so the capture holds exactly what arrived.
 *
 * @example
 * const recorder = createCaptureRecorder({ path: 'session.jsonl' });
 * recorder.append(text, clock.now()); ... await recorder.close();
 */
export function createCaptureRecorder(options: {
  readonly path: string;
  /** Append to an existing file instead of starting it afresh. Default false. */
  readonly append?: boolean;
  readonly flushIntervalMs?: number;
  readonly timers?: Timers;
}): CaptureRecorder {
  const timers = options.timers ?? systemTimers;
  const stream: WriteStream = createWriteStream(options.path, { flags: options.append ? 'a' : 'w' });
  let failure: Error | undefined;
  stream.on('error', (error) => {
    failure = error;
  });
  let buffer: string[] = [];
  let lines = 0;
  let handle: unknown;
  const write = () => {
    handle = undefined;
    if (buffer.length === 0) return;
    stream.write(buffer.join(''));
    buffer = [];
  };
  return {
    append(raw, recvMs) {
      // A frame with a raw newline (pretty-printed JSON) would break the line format: compact it.
      const frame = raw.includes('\n') ? JSON.stringify(JSON.parse(raw)) : raw;
      buffer.push(`{"recv_ms":${Math.trunc(recvMs)},"frame":${frame}}\n`);
      lines++;
      if (buffer.length >= 512) write();
      else if (handle === undefined) handle = timers.setTimeout(write, options.flushIntervalMs ?? 100);
    },
    get lines() {
      return lines;
    },
    async close() {
      timers.clearTimeout(handle);
      write();
      await new Promise<void>((resolve, reject) => stream.end(() => (failure ? reject(failure) : resolve())));
    },
  };
}
