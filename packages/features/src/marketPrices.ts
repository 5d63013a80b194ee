import { type BookView, PRICE_ONE } from '@kflow/orderbook';

/**
 * YES bid in price units, 0 when there is none: an empty side means nobody buys above $0.
 *
 * @example
 * effectiveBid(book); // 4500, or 0 for an empty YES side
 */
export function effectiveBid(book: BookView): number {
  const bid = book.bestBid('yes');
  return bid < 0 ? 0 : bid;
}

/** YES ask in price units, $1 when there is none: an empty NO side means nobody sells below $1. */
export function effectiveAsk(book: BookView): number {
  const ask = book.bestAsk('yes');
  return ask < 0 ? PRICE_ONE : ask;
}

/**
 * The YES mid in price units (may be a half unit), always finite: the midpoint of `effectiveBid` and
 * `effectiveAsk`, so an empty side pulls the mid toward its bound instead of producing NaN. The env marks
 * portfolios to this price and the features read it, so both agree on what "mid" means.
 *
 * @example
 * effectiveMid(book); // 4600 for bid 4500 / ask 4700; 5000 for an empty book
 */
export function effectiveMid(book: BookView): number {
  return (effectiveBid(book) + effectiveAsk(book)) / 2;
}
