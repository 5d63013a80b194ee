import { OrderBook, createRng } from '@kflow/orderbook';
import { type MatchingEngine, PositionTracker, buyYes, createMatchingEngine, sellYes } from '@kflow/paper';
import { type Benchmark, nsPerOp } from './harness';

/** A 20-level book per side: YES bids 0.49 … 0.30, NO bids 0.49 … 0.30 (YES asks 0.51 … 0.70), 10 contracts each. */
function twentyLevelBook(): OrderBook {
  const book = new OrderBook('BENCH');
  const yes: [number, number][] = [];
  const no: [number, number][] = [];
  for (let i = 0; i < 20; i++) {
    yes.push([4900 - i * 100, 1_000]);
    no.push([4900 - i * 100, 1_000]);
  }
  book.applySnapshot(yes, no);
  return book;
}

const POOL = 2_000;

/**
 * Taker orders consume the liquidity they take, so each timed order goes to a different engine of a pool
 * (engines for one ticker share the tracker's market) and, between rounds and outside the timed region,
 * an empty snapshot followed by the original one clears what the pool consumed.
 */
function takerWorkload() {
  const book = twentyLevelBook();
  const full = { yes: book.levels('yes'), no: book.levels('no') };
  const tracker = new PositionTracker({ cashMicros: 1e15 });
  const engines: MatchingEngine[] = Array.from({ length: POOL }, () =>
    createMatchingEngine({ ticker: 'BENCH', book, tracker, fees: { feeType: 'quadratic_with_maker_fees' } }),
  );
  const before = book.clone(); // the recorded book never changes: it is always `full` here
  const replenish = (): void => {
    book.applySnapshot([], []);
    for (const e of engines) e.onBookChange(before, 0);
    book.applySnapshot(full.yes, full.no);
  };
  // 25 contracts: three fills at three levels (10 + 10 + 5), buys and sells alternating.
  const buy = buyYes(5300, 2_500, { timeInForce: 'immediate_or_cancel' });
  const sell = sellYes(4700, 2_500, { timeInForce: 'immediate_or_cancel' });
  return { engines, replenish, buy, sell };
}

function fillWorkload(n: number) {
  const rng = createRng(11);
  const tracker = new PositionTracker({ cashMicros: 1e15, precision: 'retail' });
  const m = tracker.addMarket('BENCH', { feeType: 'quadratic_with_maker_fees' });
  const bid = new Uint8Array(n);
  const price = new Int32Array(n);
  const count = new Int32Array(n);
  const taker = new Uint8Array(n);
  for (let i = 0; i < n; i++) {
    bid[i] = rng.int(2);
    price[i] = 100 + rng.int(9_800);
    count[i] = 1 + rng.int(5_000);
    taker[i] = rng.int(2);
  }
  const acc = { feeAccumulatorMicros: 0 };
  return { tracker, m, bid, price, count, taker, acc };
}

export const paperBenchmarks: readonly Benchmark[] = [
  {
    name: 'paper.takerOrder.nsPerOp',
    description: 'MatchingEngine.submit: an IOC taker order walking 3 levels of a 20-level book (fees, tracker, order state)',
    better: 'lower',
    target: 1_000,
    setup: takerWorkload,
    run: (state) => {
      const { engines, replenish, buy, sell } = state as ReturnType<typeof takerWorkload>;
      let ns = 0;
      let ops = 0;
      for (let round = 0; round < 25; round++) {
        replenish();
        const t0 = process.hrtime.bigint();
        for (let i = 0; i < POOL; i++) engines[i]!.submit(i & 1 ? sell : buy, i);
        ns += Number(process.hrtime.bigint() - t0);
        ops += POOL;
      }
      return ns / ops;
    },
  },
  {
    name: 'paper.tracker.nsPerFill',
    description: 'PositionTracker.applyFill: netting, cost basis, exact fee and retail rounding per fill',
    better: 'lower',
    target: 200,
    setup: () => fillWorkload(1 << 18),
    run: (state) => {
      const { tracker, m, bid, price, count, taker, acc } = state as ReturnType<typeof fillWorkload>;
      return nsPerOp(bid.length, (i) => {
        tracker.applyFill(m, bid[i] === 1 ? 'bid' : 'ask', price[i]!, count[i]!, taker[i] === 1, acc, i);
      });
    },
  },
];
