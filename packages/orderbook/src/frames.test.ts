import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { KflowError, isKflowError } from './errors';
import { type KalshiFrame, parseFrame, safeParseFrame } from './frames';
import { MAX_COUNT_CENTI, PRICE_ONE, formatCount } from './units';

const T = 'KXTEST-26JAN01-T1.50';

/** Parses and narrows to one frame type (fails the test otherwise). */
function parseAs<K extends KalshiFrame['type']>(type: K, input: unknown): Extract<KalshiFrame, { type: K }> {
  const frame = parseFrame(typeof input === 'string' ? input : JSON.stringify(input));
  expect(frame.type).toBe(type);
  return frame as Extract<KalshiFrame, { type: K }>;
}

function frameError(input: unknown): KflowError<'INVALID_FRAME'> {
  const r = safeParseFrame(input);
  if (r.ok) throw new Error(`expected an error, got ${JSON.stringify(r.frame)}`);
  expect(r.error).toBeInstanceOf(KflowError);
  expect(r.error.code).toBe('INVALID_FRAME');
  return r.error;
}

const snapshotMsg = (msg: Record<string, unknown>) => ({ type: 'orderbook_snapshot', sid: 2, seq: 2, msg: { market_ticker: T, market_id: 'm-1', ...msg } });
const TRADE = { market_ticker: T, yes_price_dollars: '0.3600', count_fp: '1.00', taker_side: 'yes', ts_ms: 1 };
const deltaMsg = (msg: Record<string, unknown>) => ({ type: 'orderbook_delta', sid: 2, seq: 3, msg: { market_ticker: T, market_id: 'm-1', side: 'yes', ...msg } });

describe('control frames', () => {
  it('parses subscribed (sid from msg)', () => {
    const f = parseAs('subscribed', '{"id":1,"type":"subscribed","msg":{"channel":"orderbook_delta","sid":7}}');
    expect(f).toMatchObject({ id: 1, sid: 7, seq: undefined, channel: 'orderbook_delta' });
  });

  it('parses unsubscribed with its seq', () => {
    expect(parseAs('unsubscribed', { id: 102, sid: 2, seq: 7, type: 'unsubscribed' })).toMatchObject({ id: 102, sid: 2, seq: 7 });
  });

  it('parses ok with a market list, a subscription list, or no msg', () => {
    const upd = parseAs('ok', { id: 123, sid: 456, seq: 222, type: 'ok', msg: { market_tickers: ['A-1', 'A-2'] } });
    expect(upd).toMatchObject({ sid: 456, seq: 222, marketTickers: ['A-1', 'A-2'], subscriptions: undefined });
    const list = parseAs('ok', { id: 3, type: 'ok', msg: [{ channel: 'orderbook_delta', sid: 1 }, { channel: 'ticker', sid: 2 }] });
    expect(list.subscriptions).toEqual([
      { channel: 'orderbook_delta', sid: 1 },
      { channel: 'ticker', sid: 2 },
    ]);
    expect(list.marketTickers).toBeUndefined();
    expect(parseAs('ok', { id: 4, type: 'ok' })).toMatchObject({ marketTickers: undefined, subscriptions: undefined });
  });

  it('parses error with optional sid/seq and market tickers', () => {
    const e = parseAs('error', { id: 123, type: 'error', msg: { code: 7, msg: 'Unknown subscription ID' } });
    expect(e).toMatchObject({ code: 7, message: 'Unknown subscription ID', sid: undefined, marketTicker: undefined });
    const scoped = parseAs('error', { id: 9, sid: 3, seq: 12, type: 'error', msg: { code: 10, msg: 'Channel error', market_ticker: T, market_tickers: [T] } });
    expect(scoped).toMatchObject({ sid: 3, seq: 12, code: 10, marketTicker: T, marketTickers: [T] });
  });

  it('rejects malformed control frames', () => {
    expect(frameError({ type: 'subscribed', msg: { channel: 'x' } }).details.field).toBe('msg.sid');
    expect(frameError({ type: 'subscribed', msg: { sid: 1 } }).details.field).toBe('msg.channel');
    expect(frameError({ type: 'ok', msg: [{ channel: 'x' }] }).details.field).toBe('msg[0].sid');
    expect(frameError({ type: 'ok', msg: [{ sid: 1 }] }).details.field).toBe('msg[0].channel');
    expect(frameError({ type: 'ok', msg: [3] }).details.field).toBe('msg[0]');
    expect(frameError({ type: 'ok', msg: { market_tickers: 'A' } }).details.field).toBe('msg.market_tickers');
    expect(frameError({ type: 'ok', msg: { market_tickers: ['A', 1] } }).details.field).toBe('msg.market_tickers[1]');
    expect(frameError({ type: 'error', msg: { msg: 'no code' } }).details.field).toBe('msg.code');
    expect(frameError({ type: 'error', msg: { code: '7' } }).details.field).toBe('msg.code');
    expect(frameError({ type: 'error' }).details.field).toBe('msg');
  });
});

describe('envelope validation', () => {
  it('rejects non-JSON, non-objects and bad headers, chaining the cause', () => {
    const notJson = frameError('{"type":');
    expect(notJson.message).toContain('not JSON');
    expect(notJson.cause).toBeInstanceOf(SyntaxError);
    expect(frameError('[1,2]').details.field).toBe('');
    expect(frameError('null').details.field).toBe('');
    expect(frameError(42).details.field).toBe('');
    expect(frameError({ msg: {} }).details.field).toBe('type');
    expect(frameError({ type: 5 }).details.field).toBe('type');
    expect(frameError({ type: 'ok', sid: '1' }).details.field).toBe('sid');
    expect(frameError({ type: 'ok', seq: 1.5 }).details.field).toBe('seq');
    expect(frameError({ type: 'ok', id: true }).details.field).toBe('id');
    expect(frameError({ type: 'trade', msg: 'x' }).details.field).toBe('msg');
  });

  it('accepts an already-parsed object', () => {
    expect(parseFrame({ type: 'unsubscribed', sid: 1, seq: 2 }).type).toBe('unsubscribed');
  });

  it('returns unknown types untouched, with sid/seq for sequencing', () => {
    const raw = { type: 'event_lifecycle', sid: 4, seq: 9, msg: { event_ticker: 'E' } };
    const f = parseAs('unknown', raw);
    expect(f).toMatchObject({ wireType: 'event_lifecycle', sid: 4, seq: 9 });
    expect(f.raw).toEqual(raw);
  });

  it('safeParseFrame returns ok results and rethrows nothing for bad input', () => {
    const r = safeParseFrame('{"type":"unsubscribed","sid":1}');
    expect(r.ok && r.frame.type).toBe('unsubscribed');
    expect(safeParseFrame('garbage').ok).toBe(false);
  });

  it('parseFrame throws KflowError INVALID_FRAME naming the field', () => {
    try {
      parseFrame(JSON.stringify(deltaMsg({ price_dollars: '0.12345', delta_fp: '1.00' })));
      throw new Error('unreachable');
    } catch (error) {
      expect(isKflowError(error, 'INVALID_FRAME')).toBe(true);
      const e = error as KflowError;
      expect(e.message).toContain('msg.price_dollars');
      expect(isKflowError(e.cause, 'INVALID_NUMBER')).toBe(true);
    }
  });
});

describe('orderbook_snapshot', () => {
  it('parses the current fixed-point shape', () => {
    const f = parseAs(
      'orderbook_snapshot',
      snapshotMsg({ yes_dollars_fp: [['0.0800', '300.00'], ['0.2200', '333.00']], no_dollars_fp: [['0.5400', '20.00'], ['0.5600', '146.5']] }),
    );
    expect(f).toMatchObject({ sid: 2, seq: 2, ticker: T, marketId: 'm-1' });
    expect(f.yes).toEqual([
      [800, 30_000],
      [2200, 33_300],
    ]);
    expect(f.no).toEqual([
      [5400, 2000],
      [5600, 14_650],
    ]);
  });

  it('parses sub-penny levels and JSON numbers', () => {
    const f = parseAs('orderbook_snapshot', snapshotMsg({ yes_dollars_fp: [['0.0010', '505362.61'], [0.0125, 7.5]], no_dollars_fp: [] }));
    expect(f.yes).toEqual([
      [10, 50_536_261],
      [125, 750],
    ]);
    expect(f.no).toEqual([]);
  });

  it('treats an absent side as empty', () => {
    const f = parseAs('orderbook_snapshot', snapshotMsg({ no_dollars_fp: [['0.4000', '1.00']] }));
    expect(f.yes).toEqual([]);
    expect(f.no).toEqual([[4000, 100]]);
  });

  it('parses the legacy shapes (integer cents, 3-decimal dollars with integer counts)', () => {
    const cents = parseAs('orderbook_snapshot', snapshotMsg({ yes: [[8, 300], [22, 333]], no: [[54, 20]] }));
    expect(cents.yes).toEqual([
      [800, 30_000],
      [2200, 33_300],
    ]);
    expect(cents.no).toEqual([[5400, 2000]]);
    const dollars = parseAs('orderbook_snapshot', snapshotMsg({ yes_dollars: [['0.080', 300]], no: [[54, 20]] }));
    expect(dollars.yes).toEqual([[800, 30_000]]);
    // When every format is present, the fixed-point one wins.
    const all = parseAs('orderbook_snapshot', snapshotMsg({ yes: [[8, 1]], yes_dollars: [['0.080', 2]], yes_dollars_fp: [['0.0800', '3.00']] }));
    expect(all.yes).toEqual([[800, 300]]);
  });

  it('rejects a snapshot with no book keys at all (not an empty book)', () => {
    expect(frameError(snapshotMsg({})).message).toContain('no yes/no levels');
  });

  it('names the bad level', () => {
    expect(frameError(snapshotMsg({ yes_dollars_fp: [['0.1000', '1.00'], ['0.2000', '1.001']] })).details.field).toBe('msg.yes_dollars_fp[1][1]');
    expect(frameError(snapshotMsg({ no_dollars_fp: [['1.2000', '1.00']] })).details.field).toBe('msg.no_dollars_fp[0][0]');
    expect(frameError(snapshotMsg({ no_dollars_fp: [[null, '1.00']] })).details.field).toBe('msg.no_dollars_fp[0][0]');
    expect(frameError(snapshotMsg({ yes: [[8]] })).details.field).toBe('msg.yes[0]');
    expect(frameError(snapshotMsg({ yes: [[8.5, 1]] })).details.field).toBe('msg.yes[0][0]');
    expect(frameError(snapshotMsg({ yes_dollars_fp: 'x' })).details.field).toBe('msg.yes_dollars_fp');
    expect(frameError({ type: 'orderbook_snapshot', msg: { yes_dollars_fp: [] } }).details.field).toBe('msg.market_ticker');
    expect(frameError(snapshotMsg({ yes: [], market_id: 5 })).details.field).toBe('msg.market_id');
  });
});

describe('orderbook_delta', () => {
  it('parses the current shape with ts_ms and client_order_id', () => {
    const f = parseAs(
      'orderbook_delta',
      deltaMsg({ price_dollars: '0.9600', delta_fp: '-54.00', ts: '2022-11-22T20:44:01Z', ts_ms: 1669149841000, client_order_id: 'c-1' }),
    );
    expect(f).toMatchObject({ sid: 2, seq: 3, ticker: T, side: 'yes', priceUnits: 9600, deltaCenti: -5400, tsMs: 1669149841000, clientOrderId: 'c-1' });
  });

  it('parses fractional and sub-penny deltas, and JSON numbers', () => {
    expect(parseAs('orderbook_delta', deltaMsg({ side: 'no', price_dollars: '0.8560', delta_fp: '-1.84' }))).toMatchObject({
      side: 'no',
      priceUnits: 8560,
      deltaCenti: -184,
      tsMs: undefined,
      clientOrderId: undefined,
    });
    expect(parseAs('orderbook_delta', deltaMsg({ price_dollars: 0.001, delta_fp: 2.5 }))).toMatchObject({ priceUnits: 10, deltaCenti: 250 });
  });

  it('parses the legacy integer-cent shape and its RFC 3339 nanosecond ts', () => {
    const f = parseAs('orderbook_delta', deltaMsg({ side: 'no', price: 51, delta: -1, ts: '2025-08-12T21:00:32.539836022Z' }));
    expect(f).toMatchObject({ side: 'no', priceUnits: 5100, deltaCenti: -100, tsMs: Date.UTC(2025, 7, 12, 21, 0, 32, 539) });
    const both = parseAs('orderbook_delta', deltaMsg({ price: 96, price_dollars: '0.960', delta: -54, delta_fp: '-54.00', ts: '2022-11-22T20:44:01Z' }));
    expect(both).toMatchObject({ priceUnits: 9600, deltaCenti: -5400, tsMs: 1669149841000 });
  });

  it('rejects every malformed field', () => {
    expect(frameError(deltaMsg({ delta_fp: '1.00' })).details.field).toBe('msg.price_dollars');
    expect(frameError(deltaMsg({ price_dollars: '0.50' })).details.field).toBe('msg.delta_fp');
    expect(frameError(deltaMsg({ price_dollars: '0.50', delta_fp: '1', side: 'maybe' })).details.field).toBe('msg.side');
    expect(frameError(deltaMsg({ price_dollars: '0.50', delta_fp: '1', side: undefined })).details.field).toBe('msg.side');
    expect(frameError(deltaMsg({ price_dollars: '0.5x', delta_fp: '1' })).details.field).toBe('msg.price_dollars');
    expect(frameError(deltaMsg({ price_dollars: true, delta_fp: '1' })).details.field).toBe('msg.price_dollars');
    expect(frameError(deltaMsg({ price_dollars: '0.50', delta_fp: '1.234' })).details.field).toBe('msg.delta_fp');
    expect(frameError(deltaMsg({ price: 150, delta: 1 })).details.field).toBe('msg.price');
    expect(frameError(deltaMsg({ price: 50, delta: 1.5 })).details.field).toBe('msg.delta');
    expect(frameError(deltaMsg({ price: 50, delta: 1e15 })).details.field).toBe('msg.delta'); // × 100 passes 2^53
    expect(frameError(deltaMsg({ price_dollars: '0.50', delta_fp: '1', ts_ms: '1669149841000' })).details.field).toBe('msg.ts_ms');
    expect(frameError(deltaMsg({ price_dollars: '0.50', delta_fp: '1', ts: 'yesterday' })).details.field).toBe('msg.ts');
    expect(frameError(deltaMsg({ price_dollars: '0.50', delta_fp: '1', client_order_id: 3 })).details.field).toBe('msg.client_order_id');
    expect(frameError(deltaMsg({ price_dollars: '0.50', delta_fp: '1', market_ticker: 7 })).details.field).toBe('msg.market_ticker');
  });
});

describe('book quantities stay inside the units the book can hold', () => {
  it('refuses sizes whose value at $1 is not an exact micro-dollar integer (MAX_COUNT_CENTI)', () => {
    // 90071992547409.91 contracts is a safe integer of centi-contracts, but no book total or cost of it is.
    expect(frameError(deltaMsg({ price_dollars: '0.5000', delta_fp: '90071992547409.91' })).details.field).toBe('msg.delta_fp');
    expect(frameError(deltaMsg({ price_dollars: '0.5000', delta_fp: '-90071992547409.91' })).details.field).toBe('msg.delta_fp');
    expect(frameError(deltaMsg({ price: 50, delta: 9_007_199_255 })).details.field).toBe('msg.delta');
    expect(frameError(snapshotMsg({ yes_dollars_fp: [['0.1000', '9007199254.75']] })).details.field).toBe('msg.yes_dollars_fp[0][1]');
    expect(frameError({ type: 'trade', msg: { ...TRADE, count_fp: '9007199254.75' } }).details.field).toBe('msg.count_fp');
    // The largest size passes, and its value at $1 is exact.
    const top = formatCount(MAX_COUNT_CENTI);
    expect(parseAs('orderbook_delta', deltaMsg({ price_dollars: '0.5000', delta_fp: top })).deltaCenti).toBe(MAX_COUNT_CENTI);
    expect(Number.isSafeInteger(MAX_COUNT_CENTI * PRICE_ONE)).toBe(true);
  });

  it('refuses book and trade prices off the price grid ($0 and $1 are no order prices)', () => {
    for (const price of ['0.0000', '1.0000']) {
      expect(frameError(deltaMsg({ price_dollars: price, delta_fp: '1.00' })).details.field).toBe('msg.price_dollars');
      expect(frameError(snapshotMsg({ no_dollars_fp: [[price, '1.00']] })).details.field).toBe('msg.no_dollars_fp[0][0]');
      expect(frameError({ type: 'trade', msg: { ...TRADE, yes_price_dollars: price } }).details.field).toBe('msg.yes_price_dollars');
      expect(frameError({ type: 'trade', msg: { ...TRADE, no_price_dollars: price } }).details.field).toBe('msg.no_price_dollars');
    }
    expect(frameError(deltaMsg({ price: 0, delta: 1 })).details.field).toBe('msg.price');
    expect(frameError(snapshotMsg({ yes: [[100, 1]] })).details.field).toBe('msg.yes[0][0]');
    expect(frameError({ type: 'trade', msg: { ...TRADE, yes_price_dollars: undefined, yes_price: 100 } }).details.field).toBe('msg.yes_price');
  });

  it('refuses trades of zero or negative size', () => {
    for (const count of ['-3.00', '0.00', '-0.01']) {
      expect(frameError({ type: 'trade', msg: { ...TRADE, count_fp: count } }).details.field).toBe('msg.count_fp');
    }
    expect(frameError({ type: 'trade', msg: { ...TRADE, count_fp: undefined, count: 0 } }).details.field).toBe('msg.count');
    expect(parseAs('trade', { type: 'trade', msg: { ...TRADE, count_fp: '0.01' } }).countCenti).toBe(1);
  });

  it('every parsed book quantity is in range (property: random wire sizes and prices)', () => {
    const digits = fc.stringMatching(/^-?[0-9]{1,18}(\.[0-9]{1,2})?$/);
    fc.assert(
      fc.property(digits, digits, fc.constantFrom('delta', 'snapshot', 'trade'), (size, price, kind) => {
        const priceText = `0.${price.replace(/[-.]/g, '').slice(0, 4)}`;
        const input =
          kind === 'delta'
            ? deltaMsg({ price_dollars: priceText, delta_fp: size })
            : kind === 'snapshot'
              ? snapshotMsg({ yes_dollars_fp: [[priceText, size]] })
              : { type: 'trade', msg: { ...TRADE, yes_price_dollars: priceText, no_price_dollars: undefined, count_fp: size } };
        const r = safeParseFrame(input);
        if (!r.ok) return;
        const f = r.frame;
        const [p, q] =
          f.type === 'orderbook_delta' ? [f.priceUnits, f.deltaCenti] : f.type === 'orderbook_snapshot' ? f.yes[0]! : f.type === 'trade' ? [f.yesPriceUnits, f.countCenti] : [-1, 0];
        expect(p > 0 && p < PRICE_ONE).toBe(true);
        expect(Math.abs(q)).toBeLessThanOrEqual(MAX_COUNT_CENTI);
        if (f.type === 'trade') expect(q).toBeGreaterThan(0);
      }),
      { seed: 20_260_312, numRuns: 500 },
    );
  });
});

describe('trade', () => {
  it('parses the current shape (taker_outcome_side wins)', () => {
    const f = parseAs('trade', {
      type: 'trade',
      sid: 11,
      seq: 2,
      msg: {
        trade_id: 't-1',
        market_ticker: T,
        yes_price_dollars: '0.3600',
        no_price_dollars: '0.6400',
        count_fp: '136.00',
        taker_side: 'yes',
        taker_outcome_side: 'no',
        taker_book_side: 'ask',
        ts: 1669149841,
        ts_ms: 1669149841123,
      },
    });
    expect(f).toMatchObject({ seq: 2, tradeId: 't-1', yesPriceUnits: 3600, noPriceUnits: 6400, countCenti: 13_600, takerSide: 'no', tsMs: 1669149841123 });
  });

  it('parses the legacy shape (cents, whole contracts, seconds)', () => {
    const f = parseAs('trade', { type: 'trade', sid: 1, seq: 5, msg: { market_ticker: T, yes_price: 36, count: 10, taker_side: 'yes', ts: 1669149841 } });
    expect(f).toMatchObject({ yesPriceUnits: 3600, noPriceUnits: 6400, countCenti: 1000, takerSide: 'yes', tsMs: 1669149841000, tradeId: undefined });
  });

  it('rejects malformed trades', () => {
    const base = { market_ticker: T, yes_price_dollars: '0.36', count_fp: '1', taker_side: 'yes', ts_ms: 1 };
    const bad = (msg: Record<string, unknown>) => frameError({ type: 'trade', msg: { ...base, ...msg } }).details.field;
    expect(bad({ ts_ms: undefined })).toBe('msg.ts_ms');
    expect(bad({ taker_side: 'up' })).toBe('msg.taker_side');
    expect(bad({ taker_outcome_side: 'up' })).toBe('msg.taker_outcome_side');
    expect(bad({ count_fp: undefined })).toBe('msg.count_fp');
    expect(bad({ yes_price_dollars: '2' })).toBe('msg.yes_price_dollars');
    expect(bad({ no_price_dollars: 'x' })).toBe('msg.no_price_dollars');
  });
});

describe('ticker', () => {
  it('parses the current shape', () => {
    const f = parseAs('ticker', {
      type: 'ticker',
      sid: 11,
      msg: {
        market_id: 'm',
        market_ticker: T,
        price_dollars: '0.4800',
        yes_bid_dollars: '0.4500',
        yes_ask_dollars: '0.5300',
        volume_fp: '33896.00',
        open_interest_fp: '20422.00',
        dollar_volume: 16948,
        yes_bid_size_fp: '300.00',
        yes_ask_size_fp: '150.00',
        ts: 1669149841,
        ts_ms: 1669149841000,
      },
    });
    expect(f).toMatchObject({
      seq: undefined,
      lastPriceUnits: 4800,
      yesBidUnits: 4500,
      yesAskUnits: 5300,
      yesBidSizeCenti: 30_000,
      yesAskSizeCenti: 15_000,
      volumeCenti: 3_389_600,
      openInterestCenti: 2_042_200,
      tsMs: 1669149841000,
    });
  });

  it('parses the legacy shape and leaves absent fields undefined', () => {
    const f = parseAs('ticker', { type: 'ticker', sid: 1, msg: { market_ticker: T, price: 48, yes_bid: 45, yes_ask: 53, volume: 10, ts: 1669149841 } });
    expect(f).toMatchObject({ lastPriceUnits: 4800, yesBidUnits: 4500, yesAskUnits: 5300, volumeCenti: 1000, openInterestCenti: undefined, tsMs: 1669149841000 });
  });

  it('rejects malformed tickers', () => {
    expect(frameError({ type: 'ticker', msg: { market_ticker: T } }).details.field).toBe('msg.ts_ms');
    expect(frameError({ type: 'ticker', msg: { market_ticker: T, ts: 1, yes_bid_dollars: '0.4' + '5'.repeat(5) } }).details.field).toBe('msg.yes_bid_dollars');
  });
});

describe('fill', () => {
  const current = {
    trade_id: 't',
    order_id: 'o-1',
    client_order_id: 'my-1',
    market_ticker: T,
    is_taker: true,
    side: 'yes',
    yes_price_dollars: '0.1700',
    count_fp: '5.52',
    fee_cost: '0.054600',
    action: 'buy',
    ts: 1782873388,
    ts_ms: 1782873388379,
    post_position_fp: '5.52',
    purchased_side: 'yes',
    outcome_side: 'yes',
    book_side: 'bid',
    subaccount: 0,
  };

  it('parses the current shape', () => {
    expect(parseAs('fill', { type: 'fill', sid: 13, msg: current })).toMatchObject({
      sid: 13,
      orderId: 'o-1',
      clientOrderId: 'my-1',
      isTaker: true,
      side: 'yes',
      action: 'buy',
      bookSide: 'bid',
      yesPriceUnits: 1700,
      countCenti: 552,
      feeMicros: 54_600,
      postPositionCenti: 552,
      tsMs: 1782873388379,
    });
  });

  it('takes the outcome side over the deprecated aggressor side', () => {
    const f = parseAs('fill', { type: 'fill', msg: { ...current, side: 'yes', outcome_side: 'no', purchased_side: 'yes' } });
    expect(f.side).toBe('no');
    const { outcome_side: _o, ...noOutcome } = current;
    expect(parseAs('fill', { type: 'fill', msg: { ...noOutcome, side: 'no', purchased_side: 'yes' } }).side).toBe('yes');
  });

  it('parses the legacy shape', () => {
    const f = parseAs('fill', {
      type: 'fill',
      msg: { order_id: 'o', market_ticker: T, is_taker: false, side: 'no', yes_price: 16, count: 3, post_position: -3, action: 'buy', ts: 1700000000 },
    });
    expect(f).toMatchObject({ side: 'no', yesPriceUnits: 1600, countCenti: 300, postPositionCenti: -300, feeMicros: undefined, tsMs: 1700000000000, bookSide: undefined });
  });

  it('rejects malformed fills', () => {
    const bad = (msg: Record<string, unknown>) => frameError({ type: 'fill', msg: { ...current, ...msg } }).details.field;
    expect(bad({ order_id: undefined })).toBe('msg.order_id');
    expect(bad({ is_taker: undefined })).toBe('msg.is_taker');
    expect(bad({ is_taker: 'yes' })).toBe('msg.is_taker');
    expect(bad({ fee_cost: '0.0000001' })).toBe('msg.fee_cost');
    expect(bad({ book_side: 'mid' })).toBe('msg.book_side');
    expect(bad({ outcome_side: 'maybe' })).toBe('msg.outcome_side');
  });
});

describe('market_position', () => {
  it('parses the current shape', () => {
    const f = parseAs('market_position', {
      type: 'market_position',
      sid: 14,
      msg: {
        user_id: 'u',
        market_ticker: T,
        position_fp: '-100.00',
        position_cost_dollars: '50.0000',
        realized_pnl_dollars: '10.0000',
        fees_paid_dollars: '1.0000',
        position_fee_cost_dollars: '0.5000',
        volume_fp: '15.00',
        subaccount: 0,
      },
    });
    expect(f).toMatchObject({ positionCenti: -10_000, positionCostMicros: 50_000_000, realizedPnlMicros: 10_000_000, feesPaidMicros: 1_000_000, volumeCenti: 1500, subaccount: 0 });
  });

  it('parses the legacy centi-cent shape', () => {
    const f = parseAs('market_position', {
      type: 'market_position',
      msg: { market_ticker: T, position: 100, position_cost: 500_000, realized_pnl: -100_000, fees_paid: 10_000, volume: 15 },
    });
    expect(f).toMatchObject({ positionCenti: 10_000, positionCostMicros: 50_000_000, realizedPnlMicros: -10_000_000, feesPaidMicros: 1_000_000, volumeCenti: 1500 });
  });

  it('rejects malformed positions', () => {
    expect(frameError({ type: 'market_position', msg: { market_ticker: T, position_fp: '1' } }).details.field).toBe('msg.position_cost_dollars');
    expect(frameError({ type: 'market_position', msg: { market_ticker: T } }).details.field).toBe('msg.position_fp');
  });
});

describe('user_order', () => {
  const current = {
    order_id: 'o-1',
    user_id: 'u',
    ticker: T,
    status: 'resting',
    side: 'yes',
    is_yes: true,
    outcome_side: 'yes',
    book_side: 'bid',
    yes_price_dollars: '0.3500',
    fill_count_fp: '0.00',
    remaining_count_fp: '10.00',
    initial_count_fp: '10.00',
    taker_fees_dollars: '0.000000',
    maker_fees_dollars: '0.010000',
    client_order_id: 'my-1',
    created_ts_ms: 1733047200000,
  };

  it('parses the current shape', () => {
    expect(parseAs('user_order', { type: 'user_order', sid: 22, msg: current })).toMatchObject({
      orderId: 'o-1',
      ticker: T,
      status: 'resting',
      side: 'yes',
      bookSide: 'bid',
      yesPriceUnits: 3500,
      fillCountCenti: 0,
      remainingCountCenti: 1000,
      initialCountCenti: 1000,
      takerFeesMicros: 0,
      makerFeesMicros: 10_000,
      clientOrderId: 'my-1',
      createdTsMs: 1733047200000,
    });
  });

  it('parses the legacy integer shape', () => {
    const f = parseAs('user_order', {
      type: 'user_order',
      msg: { order_id: 'o', ticker: T, status: 'executed', side: 'no', yes_price: 35, fill_count: 2, remaining_count: 0, initial_count: 2, taker_fees: 3 },
    });
    expect(f).toMatchObject({ side: 'no', yesPriceUnits: 3500, fillCountCenti: 200, remainingCountCenti: 0, takerFeesMicros: 30_000, makerFeesMicros: undefined });
  });

  it('rejects malformed orders', () => {
    const bad = (msg: Record<string, unknown>) => frameError({ type: 'user_order', msg: { ...current, ...msg } }).details.field;
    expect(bad({ ticker: undefined })).toBe('msg.ticker');
    expect(bad({ status: 1 })).toBe('msg.status');
    expect(bad({ remaining_count_fp: undefined })).toBe('msg.remaining_count_fp');
    expect(bad({ maker_fees_dollars: 'free' })).toBe('msg.maker_fees_dollars');
  });
});

describe('market_lifecycle_v2', () => {
  it('parses settlement events', () => {
    const f = parseAs('market_lifecycle_v2', {
      type: 'market_lifecycle_v2',
      sid: 5,
      seq: 40,
      msg: { market_ticker: T, event_type: 'settled', result: 'yes', settlement_value: '1.0000', settled_ts: 1700000100, determination_ts: 1700000000 },
    });
    expect(f).toMatchObject({ seq: 40, eventType: 'settled', result: 'yes', settlementValueUnits: 10_000, settledTsMs: 1700000100000, determinationTsMs: 1700000000000 });
  });

  it('parses other lifecycle events with numbers as JSON numbers', () => {
    const f = parseAs('market_lifecycle_v2', {
      type: 'market_lifecycle_v2',
      msg: { market_ticker: T, event_type: 'determined', result: 'scalar', settlement_value: 0.37, is_deactivated: false, open_ts: 1, close_ts: 2 },
    });
    expect(f).toMatchObject({ settlementValueUnits: 3700, isDeactivated: false, openTsMs: 1000, closeTsMs: 2000, settledTsMs: undefined });
  });

  it('rejects malformed lifecycle events', () => {
    expect(frameError({ type: 'market_lifecycle_v2', msg: { market_ticker: T } }).details.field).toBe('msg.event_type');
    expect(frameError({ type: 'market_lifecycle_v2', msg: { market_ticker: T, event_type: 'settled', settlement_value: '1.5' } }).details.field).toBe('msg.settlement_value');
    expect(frameError({ type: 'market_lifecycle_v2', msg: { market_ticker: T, event_type: 'x', close_ts: 'soon' } }).details.field).toBe('msg.close_ts');
  });
});
