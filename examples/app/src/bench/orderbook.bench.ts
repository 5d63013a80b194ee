import { OrderBook, type Rng, createRng, formatCount, formatPrice, replay } from '@kflow/orderbook';
import { type Benchmark, nsPerOp, seconds } from './harness';

/**
 * A 20-level two-sided book (whole-cent levels) and a stream of valid deltas spread over its levels; one
 * pair in 8 lands half a cent off the grid, so it inserts a level and then removes it again.
 */
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
    const offset = rng.int(8) === 0 ? 50 : 0;
    const price = (side === 0 ? 2500 + level * 100 : 5400 - level * 100) + offset;
    const d = 1 + rng.int(5000);
    sides[i] = sides[i + 1] = side;
    prices[i] = prices[i + 1] = price;
    deltas[i] = d;
    deltas[i + 1] = -d;
  }
  return { book, sides, prices, deltas };
}

/**
 * A synthetic capture in the current fixed-point wire format (shaped like real Kalshi frames: key order,
 * 4-decimal prices, 2-decimal often-fractional sizes, RFC 3339 `ts` plus `ts_ms`): one sid, `markets`
 * snapshots, then deltas near the touch that keep every book valid (never negative, never crossed), with
 * an occasional `ok` ack consuming a seq number as on the real feed.
 */
function syntheticCapture(frames: number, markets: number, rng: Rng): string[] {
  const lines: string[] = ['{"type":"subscribed","id":1,"msg":{"channel":"orderbook_delta","sid":1}}'];
  let seq = 0;
  let tsMs = 1_782_000_000_000;
  const books = Array.from({ length: markets }, (_, m) => {
    const centerCents = 20 + rng.int(60);
    // YES bids at or below center − 1 cent and NO bids at or below 99 − center cents never cross.
    const book = {
      ticker: `SYN-BENCH-M${m}`,
      id: `00000000-0000-4000-8000-${String(m).padStart(12, '0')}`,
      yesTop: centerCents - 1,
      noTop: 99 - centerCents,
      yes: new Map<number, number>(),
      no: new Map<number, number>(),
    };
    for (const [side, top] of [['yes', book.yesTop], ['no', book.noTop]] as const) {
      for (let c = Math.max(1, top - 19); c <= top; c++) book[side].set(c * 100, 100 + rng.int(5_000_000));
    }
    return book;
  });
  const levels = (m: Map<number, number>) =>
    [...m].sort((a, b) => a[0] - b[0]).map(([p, q]) => `["${formatPrice(p)}","${formatCount(q)}"]`).join(',');
  for (const b of books) {
    lines.push(
      `{"type":"orderbook_snapshot","sid":1,"seq":${++seq},"msg":{"market_ticker":"${b.ticker}","market_id":"${b.id}",` +
        `"yes_dollars_fp":[${levels(b.yes)}],"no_dollars_fp":[${levels(b.no)}]}}`,
    );
  }
  while (lines.length < frames) {
    if (rng.int(500) === 0) {
      lines.push(`{"type":"ok","id":${lines.length},"sid":1,"seq":${++seq},"msg":{"market_tickers":["${books[0]!.ticker}"]}}`);
      continue;
    }
    const b = books[rng.int(markets)]!;
    const side = rng.int(2) === 0 ? 'yes' : 'no';
    const ladder = b[side];
    const top = side === 'yes' ? b.yesTop : b.noTop;
    // Most activity sits within a few cents of the touch.
    const price = Math.max(1, top - Math.min(19, Math.floor(Math.abs(rng.normal()) * 3))) * 100;
    const size = ladder.get(price) ?? 0;
    let delta: number;
    if (size > 0 && rng.int(3) === 0) delta = rng.int(8) === 0 ? -size : -(1 + rng.int(size));
    else delta = rng.int(4) === 0 ? 100 * (1 + rng.int(500)) : 1 + rng.int(100_000);
    if (size + delta === 0) ladder.delete(price);
    else ladder.set(price, size + delta);
    tsMs += rng.int(50);
    lines.push(
      `{"type":"orderbook_delta","sid":1,"seq":${++seq},"msg":{"market_ticker":"${b.ticker}","market_id":"${b.id}",` +
        `"price_dollars":"${formatPrice(price)}","delta_fp":"${formatCount(delta)}","side":"${side}",` +
        `"ts":"${new Date(tsMs).toISOString()}","ts_ms":${tsMs}}}`,
    );
  }
  return lines;
}

/** A frames/s benchmark over the shared capture: one timed `pass` over every line (which checks its own result). */
function captureThroughput(name: string, description: string, pass: (lines: readonly string[]) => void): Benchmark {
  return {
    name,
    description,
    better: 'higher',
    setup: benchCapture,
    run: async (state) => {
      const lines = state as string[];
      return lines.length / (await seconds(() => pass(lines)));
    },
  };
}

let captureCache: string[] | undefined;
/** 200k frames over 5 markets, generated once per process from a fixed seed. */
function benchCapture(): string[] {
  captureCache ??= syntheticCapture(200_000, 5, createRng(2026));
  return captureCache;
}

export const orderbookBenchmarks: readonly Benchmark[] = [
  {
    name: 'orderbook.applyDelta.nsPerOp',
    description: 'OrderBook.applyDelta on a 20-level book (valid size changes over all levels, 1 in 8 inserting then removing a level)',
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
  captureThroughput(
    'orderbook.jsonParse.framesPerSec',
    'Bare JSON.parse of each line of a 200k-frame synthetic capture (the physical floor for replay)',
    (lines) => {
      let deltas = 0;
      for (let i = 0; i < lines.length; i++) if ((JSON.parse(lines[i]!) as { type: string }).type === 'orderbook_delta') deltas++;
      if (deltas === 0) throw new Error('no deltas parsed');
    },
  ),
  {
    ...captureThroughput(
      'orderbook.replay.framesPerSec',
      'replay(): parse + validate + sequence-check + apply, same 200k-frame capture, fresh state per run',
      (lines) => {
        const c = replay(lines).counters;
        if (c.errors + c.gaps + c.negative + c.crossed !== 0 || c.frames !== lines.length) {
          throw new Error(`synthetic capture replayed with problems: ${JSON.stringify(c)}`);
        }
      },
    ),
    baseline: 'orderbook.jsonParse.framesPerSec',
    baselineTarget: 0.6,
  },
];
