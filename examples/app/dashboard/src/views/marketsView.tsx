import { useMemo } from 'react';
import { Empty, ErrorBanner } from '../components/ui';
import { VirtualTable } from '../components/virtualTable';
import { formatCents, formatContracts, formatInt, formatUsd, signClass } from '../format';
import { type BookState, store, TICKER_ORDER, useLive } from '../liveStore';
import { navigate } from '../router';
import { useViewState } from '../viewState';

type SortKey = 'ticker' | 'bid' | 'ask' | 'spread' | 'position' | 'pnl' | 'decisions' | 'state';

const COLUMNS: readonly { readonly key: SortKey | null; readonly label: string; readonly align: 'l' | 'r'; readonly title?: string }[] = [
  { key: 'ticker', label: 'Market', align: 'l' },
  { key: 'bid', label: 'Bid ¢', align: 'r', title: 'best YES bid, cents' },
  { key: 'ask', label: 'Ask ¢', align: 'r', title: 'best YES ask, cents' },
  { key: 'spread', label: 'Sprd ¢', align: 'r' },
  { key: 'position', label: 'Pos', align: 'r', title: 'contracts, + YES / − NO' },
  { key: 'pnl', label: 'PnL $', align: 'r', title: 'marked to mid, fees included' },
  { key: null, label: 'Last action', align: 'l' },
  { key: null, label: 'Model', align: 'r' },
  { key: 'decisions', label: 'Dec', align: 'r', title: 'decisions' },
  { key: 'state', label: 'Book', align: 'l' },
];

const ROW_HEIGHT = 24;
const STATE_ORDER: Record<BookState, number> = { live: 0, stale: 1, settled: 2 };

function sortValue(ticker: string, key: SortKey): number | string {
  const row = store.rows.get(ticker);
  switch (key) {
    case 'ticker':
      return ticker;
    case 'bid':
      return store.bestBid(ticker) ?? -1;
    case 'ask':
      return store.bestAsk(ticker) ?? 2;
    case 'spread': {
      const b = store.bestBid(ticker);
      const a = store.bestAsk(ticker);
      return b === null || a === null ? 2 : a - b;
    }
    case 'position':
      return row?.position ?? 0;
    case 'pnl':
      return row?.pnl ?? 0;
    case 'decisions':
      return row?.decisions ?? 0;
    case 'state':
      return STATE_ORDER[store.bookState(ticker)];
  }
}

function Row({ ticker, top }: { readonly ticker: string; readonly top: number }) {
  const row = store.rows.get(ticker);
  const bid = store.bestBid(ticker);
  const ask = store.bestAsk(ticker);
  const state = store.bookState(ticker);
  return (
    <div
      className="vrow mkt-grid clickable"
      role="row"
      style={{ transform: `translateY(${top}px)` }}
      data-testid={`markets-row-${ticker}`}
      onClick={() => navigate('market', ticker)}
    >
      <span className="cell l ticker" title={ticker}>
        {ticker}
      </span>
      <span className="cell r num bid" data-testid={`best-bid-${ticker}`}>
        {formatCents(bid)}
      </span>
      <span className="cell r num ask" data-testid={`best-ask-${ticker}`}>
        {formatCents(ask)}
      </span>
      <span className="cell r num">{bid === null || ask === null ? '—' : formatCents(ask - bid)}</span>
      <span className={`cell r num ${signClass(row?.position)}`}>{formatContracts(row?.position)}</span>
      <span className={`cell r num ${signClass(row?.pnl)}`}>{formatUsd(row?.pnl)}</span>
      <span className="cell l mono dim">{row?.lastAction ?? '—'}</span>
      <span className="cell r num dim">{row?.modelVersion === null || row?.modelVersion === undefined ? '—' : `v${row.modelVersion}`}</span>
      <span className="cell r num dim">{formatInt(row?.decisions)}</span>
      <span className="cell l">
        <span className={`dot-label book-${state}`}>{state}</span>
      </span>
    </div>
  );
}

/** Every market: touch, spread, our position and PnL, last action, model, book state; a row opens the market. */
export function MarketsView() {
  useLive();
  const [filter, setFilter] = useViewState('markets.filter', '');
  const [sort, setSort] = useViewState<{ key: SortKey; dir: 1 | -1 }>('markets.sort', { key: 'ticker', dir: 1 });

  const all = store.tickers();
  const needle = filter.trim().toUpperCase();
  const filtered = useMemo(() => (needle === '' ? all : all.filter((t) => t.toUpperCase().includes(needle))), [all, needle]);
  // Sorting by a live column re-sorts every frame (1,000 numbers: well under a millisecond).
  let tickers = filtered;
  if (sort.key === 'ticker' && sort.dir === -1) tickers = [...filtered].reverse();
  else if (sort.key !== 'ticker') {
    const keyed = filtered.map((t) => [sortValue(t, sort.key), t] as const);
    keyed.sort((a, b) => (a[0] < b[0] ? -sort.dir : a[0] > b[0] ? sort.dir : TICKER_ORDER.compare(a[1], b[1])));
    tickers = keyed.map((k) => k[1]);
  }

  let live = 0;
  let stale = 0;
  let settled = 0;
  let positions = 0;
  for (const t of all) {
    const s = store.bookState(t);
    if (s === 'live') live++;
    else if (s === 'stale') stale++;
    else settled++;
    if ((store.rows.get(t)?.position ?? 0) !== 0) positions++;
  }

  return (
    <div className="view view-fill" data-testid="markets-view">
      <div className="toolbar">
        <h1>Markets</h1>
        <input className="input" placeholder="Filter tickers" value={filter} onChange={(e) => setFilter(e.target.value)} data-testid="markets-filter" spellCheck={false} />
        <span className="summary num">
          <b>{formatInt(all.length)}</b> markets · <b>{formatInt(live)}</b> live · <b>{formatInt(stale)}</b> stale · <b>{formatInt(settled)}</b> settled ·{' '}
          <b>{formatInt(positions)}</b> with a position
        </span>
        <span className="tb-spacer" />
        <span className="dim small">{formatInt(store.received.books)} book updates since the page opened{store.bookRateLimit === null ? '' : ` (≤${store.bookRateLimit}/s per market)`}</span>
      </div>
      <ErrorBanner error={store.markets.error} testId="markets-error" />
      <VirtualTable
        testId="markets-table"
        scrollerTestId="markets-scroller"
        count={tickers.length}
        rowHeight={ROW_HEIGHT}
        header={
          <div className="thead mkt-grid" role="row">
            {COLUMNS.map((c) => (
              <span
                key={c.label}
                role="columnheader"
                className={`cell ${c.align}${c.key === null ? '' : ' sortable'}${sort.key === c.key ? ' sorted' : ''}`}
                title={c.title}
                onClick={() => c.key !== null && setSort((s) => (s.key === c.key ? { key: c.key, dir: s.dir === 1 ? -1 : 1 } : { key: c.key!, dir: c.key === 'ticker' ? 1 : -1 }))}
              >
                {c.label}
                {sort.key === c.key ? (sort.dir === 1 ? ' ▲' : ' ▼') : ''}
              </span>
            ))}
          </div>
        }
        row={(i, top) => <Row key={tickers[i]} ticker={tickers[i]!} top={top} />}
        empty={<Empty>{store.markets.atMs === null ? 'Loading markets…' : needle === '' ? 'No markets: the actor is not trading (start it with POST /rl/actor/start or kflow paper).' : 'No market matches the filter.'}</Empty>}
      />
    </div>
  );
}
