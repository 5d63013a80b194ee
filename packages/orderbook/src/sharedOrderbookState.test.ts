import { describe, expect, it, vi } from 'vitest';
import { parseFrame } from './frames';
import { SharedOrderbookState, createSharedOrderbookState } from './sharedOrderbookState';

const A = 'KXSYNTH-A';
const B = 'KXSYNTH-B';
const C = 'KXSYNTH-C';

const snap = (ticker: string, sid: number, seq: number, yes: [string, string][] = [['0.4000', '10.00']], no: [string, string][] = [['0.5000', '10.00']]) =>
  parseFrame({ type: 'orderbook_snapshot', sid, seq, msg: { market_ticker: ticker, market_id: 'm', yes_dollars_fp: yes, no_dollars_fp: no } });
const delta = (ticker: string, sid: number, seq: number, price: string, d: string, side = 'yes', tsMs?: number) =>
  parseFrame({
    type: 'orderbook_delta',
    sid,
    seq,
    msg: { market_ticker: ticker, market_id: 'm', price_dollars: price, delta_fp: d, side, ...(tsMs === undefined ? {} : { ts_ms: tsMs }) },
  });
const ok = (sid: number, seq: number) => parseFrame({ type: 'ok', id: 9, sid, seq, msg: { market_tickers: [A] } });

describe('SharedOrderbookState: books and sequencing', () => {
  it('keeps exactly one book per market and applies snapshots and deltas', () => {
    const s = createSharedOrderbookState();
    expect(s.applyFrame(snap(A, 1, 1)).outcome).toBe('snapshot');
    const book = s.book(A);
    s.applyFrame(snap(A, 1, 2, [['0.3000', '1.00']]));
    expect(s.book(A)).toBe(book);
    expect(s.markets()).toEqual([A]);
    const r = s.applyFrame(delta(A, 1, 3, '0.3100', '2.50', 'yes', 1000));
    expect(r).toMatchObject({ outcome: 'delta', update: 'ok', gap: false });
    expect(r.event).toMatchObject({ kind: 'delta', ticker: A, priceUnits: 3100, deltaCenti: 250, tsMs: 1000 });
    expect(s.book(A)!.bestBid('yes')).toBe(3100);
    expect(s.counters).toMatchObject({ frames: 3, snapshots: 2, deltas: 1, ignored: 0, gaps: 0 });
    expect(s.sidOfMarket(A)).toBe(1);
  });

  it('ignores deltas for markets without a snapshot', () => {
    const s = new SharedOrderbookState();
    const r = s.applyFrame(delta(A, 1, 1, '0.5000', '1.00'));
    expect(r).toMatchObject({ outcome: 'ignored', event: undefined });
    expect(s.book(A)).toBeUndefined();
    expect(s.counters.ignored).toBe(1);
  });

  it('counts acks in the sid sequence, so they never cause false gaps', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(ok(1, 1));
    s.applyFrame(snap(A, 1, 2));
    s.applyFrame(ok(1, 3));
    s.applyFrame(ok(1, 4));
    s.applyFrame(snap(B, 1, 5));
    s.applyFrame(delta(A, 1, 6, '0.4000', '1.00'));
    expect(s.counters.gaps).toBe(0);
    expect(s.book(A)!.stale).toBe(false);
  });

  it('ignores duplicate frames', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1));
    s.applyFrame(delta(A, 1, 2, '0.4000', '1.00'));
    const dup = s.applyFrame(delta(A, 1, 2, '0.4000', '1.00'));
    expect(dup).toMatchObject({ outcome: 'duplicate', event: undefined });
    expect(s.book(A)!.bestBidSize('yes')).toBe(1100);
    expect(s.counters).toMatchObject({ deltas: 1, ignored: 1 });
  });

  it('marks every book of a sid stale on a gap, until each gets a fresh snapshot', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1));
    s.applyFrame(snap(B, 1, 2));
    s.applyFrame(snap(C, 2, 1));
    const r = s.applyFrame(delta(A, 1, 5, '0.4000', '1.00'));
    expect(r).toMatchObject({ outcome: 'delta', gap: true });
    expect(s.counters.gaps).toBe(1);
    expect(s.book(A)!.stale).toBe(true);
    expect(s.book(B)!.stale).toBe(true);
    expect(s.book(C)!.stale).toBe(false);
    // Deltas keep being applied to the stale book; it stays stale.
    s.applyFrame(delta(A, 1, 6, '0.4000', '1.00'));
    expect(s.book(A)!.bestBidSize('yes')).toBe(1200);
    expect(s.book(A)!.stale).toBe(true);
    s.applyFrame(snap(A, 1, 7));
    expect(s.book(A)!.stale).toBe(false);
    expect(s.book(B)!.stale).toBe(true);
  });

  it('a gap found on an ack still invalidates the books of its sid', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1));
    expect(s.applyFrame(ok(1, 3))).toMatchObject({ outcome: 'other', gap: true });
    expect(s.book(A)!.stale).toBe(true);
  });

  it('restarts the sequence of a sid on (re)subscription', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 40));
    s.applyFrame(parseFrame({ type: 'subscribed', id: 2, msg: { channel: 'orderbook_delta', sid: 1 } }));
    expect(s.applyFrame(snap(A, 1, 1)).outcome).toBe('snapshot');
    expect(s.applyFrame(delta(A, 1, 2, '0.4000', '1.00')).gap).toBe(false);
  });

  it('marks the books of an unsubscribed or terminally failed sid stale', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1));
    s.applyFrame(snap(B, 2, 1));
    s.applyFrame(parseFrame({ type: 'unsubscribed', id: 5, sid: 1, seq: 2 }));
    expect(s.book(A)!.stale).toBe(true);
    s.applyFrame(parseFrame({ type: 'error', id: 6, sid: 2, msg: { code: 7, msg: 'Unknown subscription ID' } }));
    expect(s.book(B)!.stale).toBe(false);
    s.applyFrame(parseFrame({ type: 'error', id: 7, sid: 2, msg: { code: 25, msg: 'Subscription buffer overflow' } }));
    expect(s.book(B)!.stale).toBe(true);
  });

  it('resetSequences() marks everything stale and forgets sids', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 10));
    s.resetSequences();
    expect(s.book(A)!.stale).toBe(true);
    expect(s.sidOfMarket(A)).toBeUndefined();
    expect(s.applyFrame(snap(A, 1, 1)).gap).toBe(false);
    expect(s.book(A)!.stale).toBe(false);
  });

  it('counts negative and crossed updates and never hands out a rejected update as an event', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1));
    const neg = s.applyFrame(delta(A, 1, 2, '0.4000', '-10.01'));
    expect(neg).toMatchObject({ outcome: 'delta', update: 'negative', event: undefined });
    const crossed = s.applyFrame(delta(A, 1, 3, '0.6000', '1.00', 'no'));
    expect(crossed.update).toBe('crossed');
    expect(crossed.event).toBeDefined();
    const negSnap = s.applyFrame(snap(A, 1, 4, [['0.3000', '-1.00']]));
    expect(negSnap).toMatchObject({ outcome: 'snapshot', update: 'negative', event: undefined });
    expect(s.book(A)!.bestBid('no')).toBe(6000);
    expect(s.counters).toMatchObject({ snapshots: 2, negative: 2, crossed: 1 });
  });

  it('a refused snapshot is handled like a sequence gap: books stale, resync signalled, no deltas on the old book', () => {
    // What a gap reports: the sid's books stale and `gap` set on the result (the collector then asks for snapshots).
    const viaGap = new SharedOrderbookState();
    viaGap.applyFrame(snap(A, 1, 1));
    viaGap.applyFrame(snap(B, 1, 2));
    const gap = viaGap.applyFrame(ok(1, 9));
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1)); // snapshot "A": YES 0.40 × 10
    s.applyFrame(snap(B, 1, 2));
    const before = s.book(A)!.levels('yes');
    const refused = s.applyFrame(snap(A, 1, 3, [['0.3000', '-1.00']])); // snapshot "B" of the same market
    expect(refused).toMatchObject({ outcome: 'snapshot', update: 'negative', event: undefined, gap: gap.gap });
    expect(refused.gap).toBe(true);
    expect([s.book(A)!.stale, s.book(B)!.stale]).toEqual([viaGap.book(A)!.stale, viaGap.book(B)!.stale]);
    expect(s.counters).toMatchObject({ gaps: 0, negative: 1 });
    // The delta belongs to the book the exchange sent and we could not read: it must not land on the old one.
    const d = s.applyFrame(delta(A, 1, 4, '0.4000', '1.00'));
    expect(d).toMatchObject({ outcome: 'ignored', event: undefined, gap: false });
    expect(s.book(A)!.levels('yes')).toEqual(before);
    expect(s.book(A)!.stale).toBe(true);
    // Deltas of the other markets of the sid go on as after a gap; the resync snapshot restores A.
    expect(s.applyFrame(delta(B, 1, 5, '0.4000', '1.00')).outcome).toBe('delta');
    s.applyFrame(snap(A, 1, 6, [['0.3500', '2.00']]));
    expect(s.book(A)!.stale).toBe(false);
    expect(s.applyFrame(delta(A, 1, 7, '0.3500', '1.00')).update).toBe('ok');
    expect(s.book(A)!.levels('yes')).toEqual([[3500, 300]]);
  });

  it('a refused snapshot on the historical path (no sid) also stops deltas until the next snapshot', () => {
    const s = new SharedOrderbookState();
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 0, yes: [[4000, 1000]], no: [] });
    expect(s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [[4000, -1]], no: [] })).toMatchObject({ update: 'negative', gap: false });
    expect(s.applyEvent({ kind: 'delta', ticker: A, tsMs: 2, side: 'yes', priceUnits: 4000, deltaCenti: 100 }).outcome).toBe('ignored');
    expect(s.book(A)!.levels('yes')).toEqual([[4000, 1000]]);
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 3, yes: [[4000, 5]], no: [] });
    expect(s.applyEvent({ kind: 'delta', ticker: A, tsMs: 4, side: 'yes', priceUnits: 4000, deltaCenti: 100 }).outcome).toBe('delta');
  });

  it('stamps snapshots with the last exchange time, else recvMs, else 0', () => {
    const s = new SharedOrderbookState();
    expect(s.applyFrame(snap(A, 1, 1)).event!.tsMs).toBe(0);
    expect(s.applyFrame(snap(B, 1, 2), 4000).event!.tsMs).toBe(4000);
    expect(s.lastTsMs).toBeUndefined();
    s.applyFrame(delta(A, 1, 3, '0.4000', '1.00', 'yes', 5000));
    expect(s.lastTsMs).toBe(5000);
    expect(s.applyFrame(snap(B, 1, 4)).event!.tsMs).toBe(5000);
    // Once the exchange clock is known, a local receive time (ahead or behind it) does not replace it.
    expect(s.applyFrame(snap(B, 1, 5), 7777).event!.tsMs).toBe(5000);
    // A delta without ts_ms falls back the same way.
    expect(s.applyFrame(delta(A, 1, 6, '0.4000', '1.00'), 8888).event!.tsMs).toBe(5000);
    expect(new SharedOrderbookState().applyFrame(snap(A, 1, 1), 8888).event!.tsMs).toBe(8888);
  });

  it('applies normalized events through applyEvent', () => {
    const s = new SharedOrderbookState();
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [[4000, 100]], no: [] });
    const r = s.applyEvent({ kind: 'delta', ticker: A, tsMs: 2, side: 'no', priceUnits: 5000, deltaCenti: 300 });
    expect(r.outcome).toBe('delta');
    expect(s.applyEvent({ kind: 'trade', ticker: A, tsMs: 3, yesPriceUnits: 4000, countCenti: 1, takerSide: 'yes' }).outcome).toBe('trade');
    expect(s.book(A)!.bestAsk('yes')).toBe(5000);
    expect(s.lastTsMs).toBe(3);
    expect(s.counters).toMatchObject({ frames: 3, snapshots: 1, deltas: 1 });
  });
});

describe('SharedOrderbookState: readers', () => {
  it('notifies listeners after each write with the book version', () => {
    const s = new SharedOrderbookState();
    const seen: [string, number, number][] = [];
    s.subscribe((ticker, version) => seen.push([ticker, version, s.book(ticker)!.version]));
    s.applyFrame(snap(A, 1, 1));
    s.applyFrame(delta(A, 1, 2, '0.4000', '1.00'));
    s.applyFrame(ok(1, 3));
    expect(seen.map(([t]) => t)).toEqual([A, A]);
    // The listener sees the committed state: its version equals the book's.
    for (const [, v, live] of seen) expect(v).toBe(live);
    expect(seen[1]![1]).toBeGreaterThan(seen[0]![1]);
  });

  it('isolates throwing listeners from the writer and from each other', () => {
    const onListenerError = vi.fn();
    const s = new SharedOrderbookState({ onListenerError });
    const good = vi.fn();
    s.subscribe(() => {
      throw new Error('bad reader');
    });
    s.subscribe(good);
    expect(() => s.applyFrame(snap(A, 1, 1))).not.toThrow();
    expect(good).toHaveBeenCalledTimes(1);
    expect(s.listenerErrors).toBe(1);
    expect(onListenerError).toHaveBeenCalledWith(expect.any(Error), A);
    expect(s.book(A)!.stale).toBe(false);
  });

  it('unsubscribes, also from inside a listener', () => {
    const s = new SharedOrderbookState();
    const calls: string[] = [];
    const offA = s.subscribe(() => {
      calls.push('a');
      offA();
    });
    s.subscribe(() => calls.push('b'));
    s.applyFrame(snap(A, 1, 1));
    s.applyFrame(snap(A, 1, 2));
    expect(calls).toEqual(['a', 'b', 'b']);
  });

  it('notifies stale transitions caused by gaps', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1));
    s.applyFrame(snap(B, 1, 2));
    const seen: string[] = [];
    s.subscribe((t) => seen.push(t));
    s.applyFrame(ok(1, 9));
    expect(seen.sort()).toEqual([A, B]);
  });

  it('copyBook() returns an independent copy', () => {
    const s = new SharedOrderbookState();
    s.applyFrame(snap(A, 1, 1));
    const copy = s.copyBook(A)!;
    s.applyFrame(delta(A, 1, 2, '0.4500', '1.00'));
    expect(copy.bestBid('yes')).toBe(4000);
    expect(s.book(A)!.bestBid('yes')).toBe(4500);
    expect(copy.version).toBeLessThan(s.book(A)!.version);
    expect(s.copyBook('nope')).toBeUndefined();
  });
});

describe('SharedOrderbookState: event listeners (subscribeEvents)', () => {
  /** Records what each hook saw: the event, the book's best YES bid and size at that moment, and the result. */
  function recorder(s: SharedOrderbookState, log: string[]) {
    const view = (ticker: string) => {
      const b = s.book(ticker);
      return b === undefined ? 'none' : `${b.bestBid('yes')}x${b.bestBidSize('yes')}`;
    };
    return s.subscribeEvents({
      before: (e) => log.push(`before ${e.kind} ${view(e.ticker)}`),
      after: (e, r) => log.push(`after ${e.kind} ${view(e.ticker)} ${r.outcome} ${r.update ?? '-'} ${r.event === undefined ? 'no-event' : r.event === e ? 'same-event' : 'other-event'}`),
    });
  }

  it('before sees the book still in its pre-event state, after sees it applied plus the ApplyResult', () => {
    const s = new SharedOrderbookState();
    const log: string[] = [];
    recorder(s, log);
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [[4000, 100]], no: [[5000, 100]] });
    s.applyEvent({ kind: 'delta', ticker: A, tsMs: 2, side: 'yes', priceUnits: 4100, deltaCenti: 300 });
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 3, yes: [[3900, 700]], no: [] });
    expect(log).toEqual([
      'before snapshot none', // the first snapshot: no book yet
      'after snapshot 4000x100 snapshot ok same-event',
      'before delta 4000x100',
      'after delta 4100x300 delta ok same-event',
      'before snapshot 4100x300',
      'after snapshot 3900x700 snapshot ok same-event',
    ]);
  });

  it('passes the ApplyResult that the writer returns, for frames too', () => {
    const s = new SharedOrderbookState();
    const results: unknown[] = [];
    s.subscribeEvents({ after: (_e, r) => results.push(r) });
    const r1 = s.applyFrame(snap(A, 1, 1));
    const r2 = s.applyFrame(delta(A, 1, 3, '0.4000', '1.00', 'yes', 500)); // seq 2 missing: a gap
    expect(results).toHaveLength(2);
    expect(results[0]).toBe(r1);
    expect(results[1]).toBe(r2);
    expect(r2).toMatchObject({ outcome: 'delta', gap: true });
  });

  it('trades reach both hooks (books unchanged)', () => {
    const s = new SharedOrderbookState();
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [[4000, 100]], no: [[5000, 100]] });
    const log: string[] = [];
    recorder(s, log);
    const version = s.book(A)!.version;
    const trade = { kind: 'trade', ticker: A, tsMs: 5, yesPriceUnits: 4000, countCenti: 50, takerSide: 'no' } as const;
    expect(s.applyEvent(trade)).toMatchObject({ outcome: 'trade', event: trade });
    // A trade for a market without a book still reaches the hooks.
    s.applyEvent({ ...trade, ticker: B });
    expect(log).toEqual([
      'before trade 4000x100',
      'after trade 4000x100 trade - same-event',
      'before trade none',
      'after trade none trade - same-event',
    ]);
    expect(s.book(A)!.version).toBe(version);
  });

  it('a delta for a market without a snapshot reaches neither hook; duplicates and other frames neither', () => {
    const s = new SharedOrderbookState();
    const before = vi.fn();
    const after = vi.fn();
    s.subscribeEvents({ before, after });
    expect(s.applyEvent({ kind: 'delta', ticker: A, tsMs: 1, side: 'yes', priceUnits: 4000, deltaCenti: 100 }).outcome).toBe('ignored');
    expect(s.applyFrame(delta(B, 1, 1, '0.4000', '1.00')).outcome).toBe('ignored');
    expect(before).not.toHaveBeenCalled();
    expect(after).not.toHaveBeenCalled();
    s.applyFrame(snap(A, 1, 2));
    expect(s.applyFrame(snap(A, 1, 2)).outcome).toBe('duplicate');
    expect(s.applyFrame(ok(1, 3)).outcome).toBe('other');
    expect(before).toHaveBeenCalledTimes(1);
    expect(after).toHaveBeenCalledTimes(1);
  });

  it('a refused negative delta reaches after with result.event undefined, and the book unchanged', () => {
    const s = new SharedOrderbookState();
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [[4000, 100]], no: [] });
    const log: string[] = [];
    recorder(s, log);
    const r = s.applyEvent({ kind: 'delta', ticker: A, tsMs: 2, side: 'yes', priceUnits: 4000, deltaCenti: -101 });
    expect(r).toMatchObject({ outcome: 'delta', update: 'negative', event: undefined });
    expect(log).toEqual(['before delta 4000x100', 'after delta 4000x100 delta negative no-event']);
  });

  it('isolates a throwing event listener and counts it in listenerErrors', () => {
    const onListenerError = vi.fn();
    const s = new SharedOrderbookState({ onListenerError });
    const seen: string[] = [];
    s.subscribeEvents({
      before: () => {
        throw new Error('bad before');
      },
      after: () => {
        throw new Error('bad after');
      },
    });
    s.subscribeEvents({ before: (e) => seen.push(`before ${e.kind}`), after: (e) => seen.push(`after ${e.kind}`) });
    const r = s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [[4000, 100]], no: [] });
    expect(r.outcome).toBe('snapshot');
    expect(s.book(A)!.bestBid('yes')).toBe(4000);
    expect(seen).toEqual(['before snapshot', 'after snapshot']);
    expect(s.listenerErrors).toBe(2);
    expect(onListenerError).toHaveBeenCalledTimes(2);
    expect(onListenerError).toHaveBeenNthCalledWith(1, expect.objectContaining({ message: 'bad before' }), A);
    expect(onListenerError).toHaveBeenNthCalledWith(2, expect.objectContaining({ message: 'bad after' }), A);
    s.applyEvent({ kind: 'trade', ticker: B, tsMs: 2, yesPriceUnits: 4000, countCenti: 1, takerSide: 'yes' });
    expect(s.listenerErrors).toBe(4);
    expect(seen).toEqual(['before snapshot', 'after snapshot', 'before trade', 'after trade']);
  });

  it('unsubscribes, also from inside a hook, and accepts listeners with only one hook', () => {
    const s = new SharedOrderbookState();
    const calls: string[] = [];
    const offA = s.subscribeEvents({
      before: () => {
        calls.push('a');
        offA();
      },
    });
    const offB = s.subscribeEvents({ after: () => calls.push('b') });
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [], no: [] });
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 2, yes: [], no: [] });
    offB();
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 3, yes: [], no: [] });
    expect(calls).toEqual(['a', 'b', 'b']);
    offB(); // twice is harmless
  });

  it('runs before → book listeners → after, for every listener of each kind', () => {
    const s = new SharedOrderbookState();
    const calls: string[] = [];
    s.subscribeEvents({ before: (e) => calls.push(`before1 ${e.kind}`), after: (e) => calls.push(`after1 ${e.kind}`) });
    s.subscribe((ticker) => calls.push(`book ${ticker}`));
    s.subscribeEvents({ before: (e) => calls.push(`before2 ${e.kind}`), after: (e) => calls.push(`after2 ${e.kind}`) });
    s.applyEvent({ kind: 'snapshot', ticker: A, tsMs: 1, yes: [[4000, 100]], no: [] });
    s.applyEvent({ kind: 'delta', ticker: A, tsMs: 2, side: 'yes', priceUnits: 4000, deltaCenti: 100 });
    s.applyEvent({ kind: 'trade', ticker: A, tsMs: 3, yesPriceUnits: 4000, countCenti: 1, takerSide: 'no' });
    expect(calls).toEqual([
      'before1 snapshot',
      'before2 snapshot',
      `book ${A}`,
      'after1 snapshot',
      'after2 snapshot',
      'before1 delta',
      'before2 delta',
      `book ${A}`,
      'after1 delta',
      'after2 delta',
      'before1 trade', // a trade changes no book: no book listener
      'before2 trade',
      'after1 trade',
      'after2 trade',
    ]);
  });
});
