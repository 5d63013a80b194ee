import { createReadStream, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isKflowError } from './errors';
import { OrderBook, type Side } from './orderBook';
import {
  createCaptureSessionBuilder,
  parseCaptureLine,
  replay,
  replayAsync,
  sessionDataFromCapture,
  sessionDataFromCaptureSync,
} from './replay';
import { EventKind, type MarketSeries } from './sessionData';
import { formatCount, formatPrice } from './units';

const FIXTURE = new URL('./__fixtures__/capture.jsonl', import.meta.url);
const fixtureLines = () => readFileSync(FIXTURE, 'utf8').split('\n');
const A = 'KXSYNTH-26JAN01-A';
const B = 'KXSYNTH-26JAN01-B';

const EXPECTED_COUNTERS = { frames: 15, snapshots: 2, deltas: 4, ignored: 1, errors: 1, gaps: 0, crossed: 0, negative: 0 };

describe('parseCaptureLine', () => {
  it('reads raw frames and {recv_ms, frame} envelopes', () => {
    expect(parseCaptureLine('{"type":"unsubscribed","sid":1,"seq":2}')).toMatchObject({ recvMs: undefined, frame: { type: 'unsubscribed', sid: 1 } });
    expect(parseCaptureLine('{"recv_ms":1767225600500,"frame":{"type":"unsubscribed","sid":1}}')).toMatchObject({
      recvMs: 1767225600500,
      frame: { type: 'unsubscribed' },
    });
  });

  it('rejects bad envelopes and bad JSON as INVALID_FRAME', () => {
    for (const bad of ['{"frame":{"type":"ok"}}', '{"recv_ms":"1","frame":{"type":"ok"}}', '{"recv_ms":1.5,"frame":{"type":"ok"}}', '{"type":', '{"recv_ms":1,"frame":7}']) {
      expect(() => parseCaptureLine(bad)).toThrow(expect.objectContaining({ code: 'INVALID_FRAME' }));
    }
  });
});

describe('replay', () => {
  it('replays the fixture capture with exact counters and final books', () => {
    const errors: number[] = [];
    const { counters, state } = replay(fixtureLines(), { onError: (e, line) => errors.push(line) && isKflowError(e, 'INVALID_FRAME') });
    expect(counters).toEqual(EXPECTED_COUNTERS);
    expect(errors).toEqual([13]);
    const a = state.book(A)!;
    expect(a.levels('yes').map(([p, q]) => [formatPrice(p), formatCount(q)])).toEqual([['0.1500', '18.66']]);
    expect(a.levels('no').map(([p, q]) => [formatPrice(p), formatCount(q)])).toEqual([
      ['0.8000', '10.00'],
      ['0.8400', '7.00'],
    ]);
    expect(formatPrice(a.bestAsk('yes'))).toBe('0.1600');
    const b = state.book(B)!;
    expect(b.bestBid('yes')).toBe(125);
    expect(b.bestBidSize('yes')).toBe(333);
    expect(b.totalDepth('yes')).toBe(100_333);
    expect(formatPrice(b.bestAsk('yes'))).toBe('0.0200');
    expect(a.stale || b.stale).toBe(false);
  });

  it('streams the same result from an async line source', async () => {
    const lines = createInterface({ input: createReadStream(FIXTURE), crlfDelay: Number.POSITIVE_INFINITY });
    const { counters, state } = await replayAsync(lines);
    expect(counters).toEqual(EXPECTED_COUNTERS);
    expect(state.markets()).toEqual([A, B]);
  });

  it('skips blank and whitespace-only lines and counts every malformed line', () => {
    const { counters } = replay(['', '   ', '\t\r', 'not json', '42', '{"type":"orderbook_delta","msg":{}}', '{"type":"ok"}']);
    expect(counters).toMatchObject({ frames: 1, errors: 3 });
  });

  it('reports gaps, negative levels and crossed books', () => {
    const snap = '{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"X","yes_dollars_fp":[["0.4000","1.00"]],"no_dollars_fp":[["0.5000","1.00"]]}}';
    const d = (seq: number, price: string, delta: string, side: Side) =>
      `{"type":"orderbook_delta","sid":1,"seq":${seq},"msg":{"market_ticker":"X","price_dollars":"${price}","delta_fp":"${delta}","side":"${side}","ts_ms":${seq}}}`;
    const { counters, state } = replay([snap, d(2, '0.4000', '-2.00', 'yes'), d(3, '0.6100', '1.00', 'no'), d(5, '0.4000', '1.00', 'yes')]);
    expect(counters).toMatchObject({ frames: 4, deltas: 3, negative: 1, crossed: 1, gaps: 1 });
    expect(state.book('X')!.stale).toBe(true);
  });

  it('skips frames with sizes out of range or trades of no size as malformed, so every book stays formattable', () => {
    const snap = '{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"X","yes_dollars_fp":[["0.4000","1000.00"]],"no_dollars_fp":[["0.5000","1.00"]]}}';
    const huge = '{"type":"orderbook_delta","sid":1,"seq":2,"msg":{"market_ticker":"X","price_dollars":"0.4000","delta_fp":"90071992547409.91","side":"yes","ts_ms":2}}';
    const trade = (seq: number, count: string) =>
      `{"type":"trade","sid":2,"seq":${seq},"msg":{"market_ticker":"X","yes_price_dollars":"0.4000","count_fp":"${count}","taker_side":"no","ts_ms":3}}`;
    const errors: number[] = [];
    const { counters, state } = replay([snap, huge, trade(1, '-3.00'), trade(2, '0.00')], { onError: (_, line) => errors.push(line) });
    expect(errors).toEqual([2, 3, 4]);
    expect(counters).toMatchObject({ frames: 1, errors: 3 });
    const book = state.book('X')!;
    expect(formatCount(book.totalDepth('yes'))).toBe('1000.00');
  });
});

/** Rebuilds one market's book from its columnar series (what the env does). */
function rebuild(series: MarketSeries): OrderBook {
  const book = new OrderBook(series.ticker);
  book.applySnapshot(series.initial.yes, series.initial.no);
  for (let i = 0; i < series.length; i++) {
    const kind = series.kind[i];
    if (kind === EventKind.DeltaYes || kind === EventKind.DeltaNo) {
      book.applyDelta(kind === EventKind.DeltaYes ? 'yes' : 'no', series.price[i]!, series.qty[i]!);
    } else if (kind === EventKind.Snapshot) {
      const s = series.snapshots[series.qty[i]!]!;
      book.applySnapshot(s.yes, s.no);
    }
  }
  return book;
}

describe('sessionDataFromCapture', () => {
  it('builds columnar series, settlements and back-filled snapshot times from the fixture', async () => {
    const session = await sessionDataFromCapture(fixtureLines(), { id: 'fixture' });
    expect(session.id).toBe('fixture');
    const [a, b] = session.markets;
    expect(a!.ticker).toBe(A);
    // A's snapshot had no time: it takes the first time seen after it (B's envelope receive time).
    expect(a!.initialTsMs).toBe(1767225600500);
    expect(b!.initialTsMs).toBe(1767225600500);
    expect(a!.length).toBe(4); // 3 deltas + 1 trade
    expect([...a!.kind]).toEqual([EventKind.DeltaYes, EventKind.DeltaNo, EventKind.TradeTakerNo, EventKind.DeltaYes]);
    expect([...a!.qty]).toEqual([-184, 200, 100, -10_000]);
    expect([...a!.tsMs]).toEqual([1767225601000, 1767225601100, 1767225601300, 1767225601400]);
    expect(b!.length).toBe(1); // the duplicate is dropped
    expect(b!.settlement).toEqual({ result: 'no', yesPayoutUnits: 0, tsMs: 1767225700000 });
    expect(a!.settlement).toBeUndefined();
    const { state } = replay(fixtureLines());
    expect(rebuild(a!).equals(state.book(A)!)).toBe(true);
    expect(rebuild(b!).equals(state.book(B)!)).toBe(true);
  });

  it('gives the same result synchronously and through the frame-level builder', async () => {
    const lines = fixtureLines();
    const viaAsync = await sessionDataFromCapture(lines, { id: 's' });
    expect(sessionDataFromCaptureSync(lines, { id: 's' })).toEqual(viaAsync);
    const b = createCaptureSessionBuilder({ id: 's' });
    for (const line of lines) {
      if (line.trim() === '' || line.endsWith(':')) continue;
      const { frame, recvMs } = parseCaptureLine(line);
      b.push(frame, recvMs);
    }
    expect(b.build()).toEqual(viaAsync);
  });

  it('a book rebuilt from recorded events equals the incrementally updated one (property)', () => {
    const op = fc.record({
      market: fc.integer({ min: 0, max: 2 }),
      kind: fc.constantFrom('delta', 'delta', 'delta', 'snapshot', 'dup'),
      side: fc.constantFrom<Side>('yes', 'no'),
      tick: fc.integer({ min: 1, max: 40 }),
      size: fc.integer({ min: -3000, max: 3000 }),
    });
    fc.assert(
      fc.property(fc.array(op, { maxLength: 150 }), (ops) => {
        let seq = 0;
        const lines: string[] = [];
        for (const o of ops) {
          const ticker = `KXSYNTH-P${o.market}`;
          // Prices on a 0.0025 grid, at most 0.10 per side: never crossed.
          const price = formatPrice(o.tick * 25);
          if (o.kind === 'dup' && lines.length > 0) lines.push(lines[lines.length - 1]!);
          else if (o.kind === 'snapshot') {
            lines.push(
              `{"type":"orderbook_snapshot","sid":1,"seq":${++seq},"msg":{"market_ticker":"${ticker}","yes_dollars_fp":[["${price}","${formatCount(Math.abs(o.size) + 1)}"]]}}`,
            );
          } else {
            lines.push(
              `{"type":"orderbook_delta","sid":1,"seq":${++seq},"msg":{"market_ticker":"${ticker}","price_dollars":"${price}","delta_fp":"${formatCount(o.size)}","side":"${o.side}","ts_ms":${1000 + seq}}}`,
            );
          }
        }
        const { state, counters } = replay(lines);
        expect(counters.gaps).toBe(0);
        const session = sessionDataFromCaptureSync(lines, { id: 'p' });
        expect(session.markets.map((m) => m.ticker).sort()).toEqual(state.markets().sort());
        for (const series of session.markets) {
          const live = state.book(series.ticker)!;
          const rebuilt = rebuild(series);
          expect(rebuilt.equals(live)).toBe(true);
          for (let i = 0; i < live.levelCount('yes'); i++) expect(live.sizeAt('yes', i)).toBeGreaterThan(0);
          for (let i = 0; i < live.levelCount('no'); i++) expect(live.sizeAt('no', i)).toBeGreaterThan(0);
        }
      }),
      { numRuns: 150 },
    );
  });
});
