import { createReadStream } from 'node:fs';
import { access } from 'node:fs/promises';
import { createInterface } from 'node:readline';
import type { CAC } from 'cac';
import { type BookView, type ReplayCounters, type ReplayResult, formatCount, formatPrice, replayAsync } from '@kflow/orderbook';
import { formatTable, printJson } from '../output';

/** Top of one book as printed by `kflow replay --json`; the keys of an empty side are absent. */
export interface MarketSummary {
  bestYesBid?: string;
  bestYesBidSize?: string;
  bestNoBid?: string;
  bestNoBidSize?: string;
  bestYesAsk?: string;
  yesLevels?: number;
  noLevels?: number;
  yesDepth?: string;
  noDepth?: string;
}

/** The counters in the documented key order, then the markets. */
export interface ReplaySummary extends ReplayCounters {
  markets: Record<string, MarketSummary>;
}

function summarizeBook(book: BookView): MarketSummary {
  const yes = book.levelCount('yes') > 0;
  const no = book.levelCount('no') > 0;
  // Keys in the documented order; a side's keys are absent when it is empty (the YES ask comes from NO bids).
  const out: MarketSummary = {};
  if (yes) out.bestYesBid = formatPrice(book.bestBid('yes'));
  if (yes) out.bestYesBidSize = formatCount(book.bestBidSize('yes'));
  if (no) out.bestNoBid = formatPrice(book.bestBid('no'));
  if (no) out.bestNoBidSize = formatCount(book.bestBidSize('no'));
  if (no) out.bestYesAsk = formatPrice(book.bestAsk('yes'));
  if (yes) out.yesLevels = book.levelCount('yes');
  if (no) out.noLevels = book.levelCount('no');
  if (yes) out.yesDepth = formatCount(book.totalDepth('yes'));
  if (no) out.noDepth = formatCount(book.totalDepth('no'));
  return out;
}

/** The `--json` object of `kflow replay`: counters, then each market's final top of book. */
export function summarizeReplay({ counters, state }: ReplayResult): ReplaySummary {
  const markets: Record<string, MarketSummary> = {};
  for (const ticker of state.markets()) markets[ticker] = summarizeBook(state.book(ticker)!);
  const { frames, snapshots, deltas, ignored, errors, gaps, crossed, negative } = counters;
  return { frames, snapshots, deltas, ignored, errors, gaps, crossed, negative, markets };
}

/** Streams a capture file line by line (never loads it whole). */
export async function replayFile(path: string): Promise<ReplayResult> {
  await access(path);
  const input = createReadStream(path, { encoding: 'utf8' });
  return replayAsync(createInterface({ input, crlfDelay: Number.POSITIVE_INFINITY }));
}

function printTable(summary: ReplaySummary, result: ReplayResult): void {
  const { markets, ...counters } = summary;
  console.log(Object.entries(counters).map(([k, v]) => `${k} ${v}`).join('  '));
  const rows = Object.entries(markets).map(([ticker, m]) => [
    ticker,
    m.bestYesBid === undefined ? '-' : `${m.bestYesBid} x ${m.bestYesBidSize}`,
    m.bestNoBid === undefined ? '-' : `${m.bestNoBid} x ${m.bestNoBidSize}`,
    m.bestYesAsk ?? '-',
    `${m.yesLevels ?? 0}/${m.noLevels ?? 0}`,
    `${m.yesDepth ?? '0.00'}/${m.noDepth ?? '0.00'}`,
    result.state.book(ticker)?.stale ? 'STALE' : 'ok',
  ]);
  console.log(formatTable(['market', 'yes bid x size', 'no bid x size', 'yes ask', 'levels y/n', 'depth y/n', 'state'], rows));
}

export function registerReplay(cli: CAC): void {
  cli
    .command('replay <capture>', 'Replay a JSONL capture (raw Kalshi frames or {recv_ms, frame} envelopes) into order books')
    .option('--json', 'Print one JSON object: counters and each market’s final top of book')
    .example('kflow replay capture.jsonl --json')
    .action(async (capture: string, options: { json?: boolean }) => {
      const result = await replayFile(capture);
      const summary = summarizeReplay(result);
      if (options.json) printJson(summary);
      else printTable(summary, result);
    });
}
