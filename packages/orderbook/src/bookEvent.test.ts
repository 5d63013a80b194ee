import { describe, expect, it } from 'vitest';
import { applyBookEvent, frameToBookEvent } from './bookEvent';
import { parseFrame } from './frames';
import { OrderBook } from './orderBook';

const T = 'KXSYNTH-EV';

describe('frameToBookEvent', () => {
  it('normalizes snapshots with the fallback time', () => {
    const f = parseFrame({ type: 'orderbook_snapshot', sid: 1, seq: 1, msg: { market_ticker: T, yes: [[40, 2]], no_dollars_fp: [['0.5000', '1.50']] } });
    expect(frameToBookEvent(f, 123)).toEqual({ kind: 'snapshot', ticker: T, tsMs: 123, yes: [[4000, 200]], no: [[5000, 150]] });
  });

  it('keeps a delta’s own time and falls back only without one', () => {
    const withTs = parseFrame({ type: 'orderbook_delta', msg: { market_ticker: T, side: 'no', price_dollars: '0.5000', delta_fp: '-1.50', ts_ms: 77 } });
    expect(frameToBookEvent(withTs, 1)).toEqual({ kind: 'delta', ticker: T, tsMs: 77, side: 'no', priceUnits: 5000, deltaCenti: -150 });
    const without = parseFrame({ type: 'orderbook_delta', msg: { market_ticker: T, side: 'no', price: 50, delta: 1 } });
    expect(frameToBookEvent(without, 9)?.tsMs).toBe(9);
  });

  it('normalizes trades by taker outcome and ignores other frames', () => {
    const trade = parseFrame({ type: 'trade', msg: { market_ticker: T, yes_price_dollars: '0.4100', count_fp: '3.00', taker_side: 'yes', ts_ms: 5 } });
    expect(frameToBookEvent(trade, 0)).toEqual({ kind: 'trade', ticker: T, tsMs: 5, yesPriceUnits: 4100, countCenti: 300, takerSide: 'yes' });
    expect(frameToBookEvent(parseFrame({ type: 'ok', id: 1 }), 0)).toBeUndefined();
  });
});

describe('applyBookEvent', () => {
  it('applies snapshots and deltas; trades leave the book unchanged', () => {
    const book = new OrderBook(T);
    expect(applyBookEvent(book, { kind: 'snapshot', ticker: T, tsMs: 0, yes: [[4000, 200]], no: [] })).toBe('ok');
    expect(applyBookEvent(book, { kind: 'delta', ticker: T, tsMs: 1, side: 'yes', priceUnits: 4000, deltaCenti: -50 })).toBe('ok');
    const v = book.version;
    expect(applyBookEvent(book, { kind: 'trade', ticker: T, tsMs: 2, yesPriceUnits: 4000, countCenti: 50, takerSide: 'no' })).toBe('ok');
    expect(book.version).toBe(v);
    expect(book.bestBidSize('yes')).toBe(150);
  });
});
