import { KflowError, isKflowError } from './errors';
import { type KalshiFrame, type MarketLifecycleFrame, parseFrame } from './frames';
import { type Settlement, type SessionData, createSessionDataBuilder } from './sessionData';
import { type ApplyResult, SharedOrderbookState, type StateCounters } from './sharedOrderbookState';
import { PRICE_ONE } from './units';
import type { BookEvent } from './bookEvent';

/**
 * Capture file format (JSON lines; what ingest writes and replay/env read). Each non-blank line is either
 * - a raw Kalshi WebSocket frame object, exactly as received: `{"type":"orderbook_delta","sid":1,...}`, or
 * - an envelope with the local receive time: `{"recv_ms": 1782873105311, "frame": {...raw frame...}}`.
 * Blank (or whitespace-only) lines are allowed and skipped.
 */
export interface CaptureLine {
  readonly frame: KalshiFrame;
  /** Local receive time in epoch ms (envelopes only). */
  readonly recvMs: number | undefined;
}

function isBlank(line: string): boolean {
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) return false;
  }
  return true;
}

/**
 * Parses one non-blank capture line (raw frame or `{recv_ms, frame}` envelope).
 * Throws `KflowError<'INVALID_FRAME'>` on malformed input.
 *
 * @example
 * parseCaptureLine('{"recv_ms":1700000000000,"frame":{"type":"ok","id":1}}'); // { frame: {type:'ok',...}, recvMs: 1700000000000 }
 */
export function parseCaptureLine(line: string): CaptureLine {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch (error) {
    throw new KflowError('INVALID_FRAME', `Invalid capture line: not JSON (${(error as Error).message})`, {
      cause: error,
      details: { field: '' },
    });
  }
  if (typeof value === 'object' && value !== null && 'frame' in value) {
    const recv = (value as { recv_ms?: unknown }).recv_ms;
    if (typeof recv !== 'number' || !Number.isSafeInteger(recv)) {
      throw new KflowError('INVALID_FRAME', 'Invalid capture envelope field "recv_ms": expected an integer (epoch ms)', {
        details: { field: 'recv_ms' },
      });
    }
    return { frame: parseFrame((value as { frame: unknown }).frame), recvMs: recv };
  }
  return { frame: parseFrame(value), recvMs: undefined };
}

/** Replay totals: `StateCounters` plus `errors` (malformed lines, counted and skipped). */
export interface ReplayCounters extends StateCounters {
  errors: number;
}

/** Options of {@link replay} and {@link replayAsync}. */
export interface ReplayOptions {
  /** Replay into an existing state (default: a fresh one). */
  readonly state?: SharedOrderbookState;
  /** Called for every malformed line (1-based line number); the line is then skipped. */
  readonly onError?: (error: KflowError<'INVALID_FRAME'>, lineNumber: number) => void;
  /** Called after each applied frame (e.g. to collect events or settlements). */
  readonly onFrame?: (frame: KalshiFrame, result: ApplyResult, recvMs: number | undefined) => void;
}

/** What a replay ends with: its counters and the books after the last line. */
export interface ReplayResult {
  readonly counters: ReplayCounters;
  /** The books after the last line. */
  readonly state: SharedOrderbookState;
}

/** The line-by-line core shared by the sync and async replays. */
function createReplayer(options: ReplayOptions) {
  const state = options.state ?? new SharedOrderbookState();
  const { onError, onFrame } = options;
  let errors = 0;
  let lineNumber = 0;
  return {
    line(text: string): void {
      lineNumber++;
      if (isBlank(text)) return;
      let parsed: CaptureLine;
      try {
        parsed = parseCaptureLine(text);
      } catch (error) {
        if (!isKflowError(error, 'INVALID_FRAME')) throw error;
        errors++;
        onError?.(error, lineNumber);
        return;
      }
      const result = state.applyFrame(parsed.frame, parsed.recvMs);
      onFrame?.(parsed.frame, result, parsed.recvMs);
    },
    result(): ReplayResult {
      return { counters: { ...state.counters, errors }, state };
    },
  };
}

/**
 * Replays capture lines (see `CaptureLine` for the format) into a `SharedOrderbookState`. Malformed lines
 * are counted in `errors` and skipped, never thrown.
 *
 * @example
 * const { counters, state } = replay(text.split('\n'));
 * counters.gaps; // 0
 * state.book('KXFED-26DEC-T4.00')?.bestBid('yes');
 */
export function replay(lines: Iterable<string>, options: ReplayOptions = {}): ReplayResult {
  const replayer = createReplayer(options);
  for (const line of lines) replayer.line(line);
  return replayer.result();
}

/**
 * `replay` over an async source, e.g. `readline.createInterface({ input: createReadStream(path) })`, so
 * large captures stream instead of loading whole.
 *
 * @example
 * const { counters } = await replayAsync(createInterface({ input: createReadStream('capture.jsonl') }));
 */
export async function replayAsync(
  lines: AsyncIterable<string> | Iterable<string>,
  options: ReplayOptions = {},
): Promise<ReplayResult> {
  const replayer = createReplayer(options);
  for await (const line of lines) replayer.line(line);
  return replayer.result();
}

/** Options of {@link sessionDataFromCapture}, {@link sessionDataFromCaptureSync} and {@link createCaptureSessionBuilder}. */
export interface SessionFromCaptureOptions {
  readonly id: string;
  /** Called for every malformed line (1-based line number); the line is skipped. */
  readonly onError?: ReplayOptions['onError'];
}

/**
 * Settlement of a `market_lifecycle_v2` `determined`/`settled` frame with a `result`: YES pays $1 on
 * `yes`, 0 on `no`, `settlement_value` on `scalar`; `void` records the value if given, else 0 (positions
 * are refunded at cost, not paid out). Time: `settled_ts`, else `determination_ts`, else the fallback.
 */
/**
 * The settlement a `market_lifecycle_v2` frame announces (`determined` or `settled` with a result), or
 * undefined. Its time is the frame's settled / determination time, else `fallbackTsMs`. One reading for
 * recorded sessions and the live actor.
 *
 * @example
 * const s = settlementOf(frame, recvMs); if (s) client.settle(frame.ticker, s.result, formatPrice(s.yesPayoutUnits));
 */
export function settlementOf(frame: MarketLifecycleFrame, fallbackTsMs: number): Settlement | undefined {
  if (frame.eventType !== 'settled' && frame.eventType !== 'determined') return undefined;
  const { result } = frame;
  if (result !== 'yes' && result !== 'no' && result !== 'void' && result !== 'scalar') return undefined;
  const yesPayoutUnits = result === 'yes' ? PRICE_ONE : result === 'no' ? 0 : (frame.settlementValueUnits ?? 0);
  return { result, yesPayoutUnits, tsMs: frame.settledTsMs ?? frame.determinationTsMs ?? fallbackTsMs };
}

/** Builds a `SessionData` frame by frame (see {@link createCaptureSessionBuilder}). */
export interface CaptureSessionBuilder {
  /** Applies one frame (with its receive time, if recorded) and records what it changed. */
  push(frame: KalshiFrame, recvMs?: number): void;
  /** The same as `push` after the caller applied the frame to `state` itself (replay's `onFrame` hook). */
  onFrame(frame: KalshiFrame, result: ApplyResult, recvMs: number | undefined): void;
  /** The books the builder maintains (one writer: only the builder applies frames to it). */
  readonly state: SharedOrderbookState;
  /** The session recorded so far, in columnar form. */
  build(): SessionData;
}

/**
 * The frame-by-frame core of `sessionDataFromCapture`, for callers that hold frames rather than lines
 * (ingest loads the same frames from its database and must build an identical `SessionData`).
 *
 * Rules: events are exactly those the `SharedOrderbookState` applied (duplicates, deltas before a market's
 * first snapshot and rejected negative deltas are dropped); snapshots at the very start of a capture with
 * no receive time and no exchange time seen yet are stamped with the first exchange time that follows.
 *
 * @example
 * const b = createCaptureSessionBuilder({ id: 'cap-1' });
 * for (const { frame, recvMs } of rows) b.push(frame, recvMs);
 * const session = b.build();
 */
export function createCaptureSessionBuilder(options: SessionFromCaptureOptions): CaptureSessionBuilder {
  const state = new SharedOrderbookState();
  const builder = createSessionDataBuilder(options.id);
  // Snapshots seen before any time is known wait here for the first exchange time.
  let pending: BookEvent[] = [];
  const flush = (tsMs: number) => {
    for (const e of pending) builder.add({ ...e, tsMs });
    pending = [];
  };
  const onFrame = (frame: KalshiFrame, result: ApplyResult, recvMs: number | undefined): void => {
    const timeKnown = recvMs !== undefined || state.lastTsMs !== undefined;
    if (pending.length > 0 && timeKnown) flush(recvMs ?? state.lastTsMs ?? 0);
    const { event } = result;
    if (event !== undefined) {
      if (!timeKnown) pending.push(event);
      else builder.add(event);
    }
    if (frame.type === 'market_lifecycle_v2') {
      const settlement = settlementOf(frame, recvMs ?? state.lastTsMs ?? 0);
      if (settlement !== undefined) builder.settle(frame.ticker, settlement);
    }
  };
  return {
    push(frame: KalshiFrame, recvMs?: number): void {
      onFrame(frame, state.applyFrame(frame, recvMs), recvMs);
    },
    onFrame,
    state,
    build(): SessionData {
      flush(0);
      return builder.build();
    },
  };
}

/**
 * Builds the columnar `SessionData` the env trains on from capture lines (same format and rules as
 * `replay`; malformed lines are skipped). Settlements come from `market_lifecycle_v2` `determined` /
 * `settled` frames.
 *
 * @example
 * const session = await sessionDataFromCapture(createInterface({ input: createReadStream(path) }), { id: 'cap-1' });
 */
export async function sessionDataFromCapture(
  lines: AsyncIterable<string> | Iterable<string>,
  options: SessionFromCaptureOptions,
): Promise<SessionData> {
  const b = createCaptureSessionBuilder(options);
  await replayAsync(lines, { state: b.state, onFrame: b.onFrame, ...(options.onError === undefined ? {} : { onError: options.onError }) });
  return b.build();
}

/** `sessionDataFromCapture` over in-memory lines, synchronously. */
export function sessionDataFromCaptureSync(lines: Iterable<string>, options: SessionFromCaptureOptions): SessionData {
  const b = createCaptureSessionBuilder(options);
  replay(lines, { state: b.state, onFrame: b.onFrame, ...(options.onError === undefined ? {} : { onError: options.onError }) });
  return b.build();
}
