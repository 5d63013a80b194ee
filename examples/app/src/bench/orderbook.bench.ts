import { OrderBook, createRng } from '@kflow/orderbook';
import { type Benchmark, nsPerOp } from './harness';

/** A realistic 20-level two-sided book and a stream of valid deltas around the touch. */
function deltaWorkload(n: number) {
  const rng = createRng(7);
  const book = new OrderBook('BENCH');
  const yes: [number, number][] = [];
  const no: [number, number][] = [];
  for (let i = 0; i < 20; i++) {
    yes.push([2500 + i * 100, 10_000 + rng.int(100_000)]);
    no.push([5500 - i * 100 - 100, 10_000 + rng.int(100_000)]);
  }
  book.applySnapshot(yes, no);
  // Pairs of +d / -d keep the book valid forever, so the timed loop never hits an error path.
  const sides = new Uint8Array(n);
  const prices = new Int32Array(n);
  const deltas = new Float64Array(n);
  for (let i = 0; i < n; i += 2) {
    const side = rng.int(2);
    const level = rng.int(20);
    const price = side === 0 ? 2500 + level * 100 : 5400 - level * 100;
    const d = 1 + rng.int(5000);
    sides[i] = sides[i + 1] = side;
    prices[i] = prices[i + 1] = price;
    deltas[i] = d;
    deltas[i + 1] = -d;
  }
  return { book, sides, prices, deltas };
}

export const orderbookBenchmarks: readonly Benchmark[] = [
  {
    name: 'orderbook.applyDelta.nsPerOp',
    description: 'OrderBook.applyDelta on a 20-level book (valid deltas near the touch)',
    better: 'lower',
    target: 50,
    setup: () => deltaWorkload(1 << 20),
    run: (state) => {
      const { book, sides, prices, deltas } = state as ReturnType<typeof deltaWorkload>;
      return nsPerOp(sides.length, (i) => {
        book.applyDelta(sides[i] === 0 ? 'yes' : 'no', prices[i]!, deltas[i]!);
      });
    },
  },
];
