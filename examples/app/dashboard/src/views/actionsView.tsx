import { useState } from 'react';
import { Empty, Notice } from '../components/ui';
import { VirtualTable } from '../components/virtualTable';
import { formatCents, formatClock, formatInt, formatMicros, formatNumber, formatValue } from '../format';
import { type FeedItem, store, useLive } from '../liveStore';
import { href } from '../router';
import { useViewState } from '../viewState';

const ROW_HEIGHT = 22;

function detailOf(item: FeedItem): string {
  const m = item.message;
  if (m.type === 'fill') return `${m.isTaker ? 'taker' : 'maker'} · fee $${m.fee.toFixed(4)}`;
  if (m.type === 'event') {
    return Object.entries(m.detail)
      .map(([k, v]) => `${k}=${formatValue(v)}`)
      .join(' ');
  }
  const parts: string[] = [];
  if (m.override !== null) parts.push(`override ${m.override}${m.policyAction === null ? '' : ` (policy: ${m.policyAction})`}`);
  if (m.reject !== null) parts.push(`rejected: ${m.reject}`);
  else if (m.order !== null) parts.push(m.executed ? m.order.timeInForce : 'not executed');
  return parts.join(' · ');
}

function FeedRow({ item, top }: { readonly item: FeedItem; readonly top: number }) {
  const m = item.message;
  const order = m.type === 'fill' ? m : m.type === 'decision' ? m.order : null;
  return (
    <div className={`vrow feed-grid${item.kind === 'decision' ? ' quiet' : ''}`} role="row" style={{ transform: `translateY(${top}px)` }} data-testid="feed-row" data-kind={item.kind} data-market={item.market ?? ''}>
      <span className="cell l num dim">{formatClock(item.recvMs)}</span>
      <span className="cell l num dim">{m.type === 'event' ? '' : formatClock(m.tsMs)}</span>
      <span className="cell l ticker">{item.market === null ? '' : <a href={href('market', item.market)}>{item.market}</a>}</span>
      <span className="cell l">
        <span className={`kind kind-${item.kind}`}>{item.kind}</span>
      </span>
      <span className="cell l mono">{m.type === 'decision' ? m.action : m.type === 'event' ? m.event : ''}</span>
      <span className={`cell l ${order?.side ?? ''}`}>{order === null ? '' : order.side === 'bid' ? 'buy' : 'sell'}</span>
      <span className="cell r num">{order === null ? '' : formatCents(order.price)}</span>
      <span className="cell r num">{order === null ? '' : formatNumber(order.count, order.count % 1 === 0 ? 0 : 2)}</span>
      <span className="cell r num dim">{m.type === 'decision' ? `v${m.modelVersion}` : ''}</span>
      <span className="cell r num dim">{m.type === 'decision' ? formatMicros(m.latencyMicros) : ''}</span>
      <span className="cell l dim detail" title={detailOf(item)}>
        {detailOf(item)}
      </span>
    </div>
  );
}

/** The live feed of decisions, orders, fills and actor events, newest first. */
export function ActionsView() {
  useLive();
  const [market, setMarket] = useViewState('actions.market', '');
  const [tradesOnly, setTradesOnly] = useViewState('actions.tradesOnly', false);
  const [paused, setPaused] = useState<FeedItem[] | null>(null);

  const source = tradesOnly ? store.trades : store.feed;
  const needle = market.trim().toUpperCase();
  const live = needle === '' && !tradesOnly ? null : source.filter((i) => needle === '' || (i.market ?? '').toUpperCase().includes(needle));
  const items = paused ?? live;
  const count = items === null ? store.feed.length : items.length;
  const itemAt = (i: number) => (items === null ? store.feed.at(i) : items[i]);

  const actions = store.streams.actions;

  return (
    <div className="view view-fill" data-testid="actions-view">
      <div className="toolbar">
        <h1>Actions</h1>
        <input className="input" placeholder="Market" value={market} onChange={(e) => setMarket(e.target.value)} list="feed-markets" data-testid="feed-market" spellCheck={false} />
        <datalist id="feed-markets">
          {store.tickers().slice(0, 2000).map((t) => (
            <option key={t} value={t} />
          ))}
        </datalist>
        <label className="check">
          <input type="checkbox" checked={tradesOnly} onChange={(e) => setTradesOnly(e.target.checked)} data-testid="feed-trades-only" /> orders and fills only
        </label>
        <button type="button" className={`btn${paused === null ? '' : ' on'}`} onClick={() => setPaused(paused === null ? (items ?? store.feed.filter(() => true)) : null)} data-testid="feed-pause">
          {paused === null ? 'Pause' : 'Resume'}
        </button>
        <span className="tb-spacer" />
        <span className="summary num">
          showing <b>{formatInt(count)}</b> · {formatInt(store.received.actions)} received · newest {formatInt(store.feed.capacity)} kept ({tradesOnly ? 'orders and fills' : 'all'})
        </span>
      </div>
      {actions.state === 'open' ? null : (
        <Notice kind="warn">
          Action stream {actions.state}
          {actions.reason === null ? '' : `: ${actions.reason}`}
        </Notice>
      )}
      <VirtualTable
        testId="feed"
        count={count}
        rowHeight={ROW_HEIGHT}
        header={
          <div className="thead feed-grid" role="row">
            <span className="cell l">Received</span>
            <span className="cell l">Exchange</span>
            <span className="cell l">Market</span>
            <span className="cell l">Kind</span>
            <span className="cell l">Action</span>
            <span className="cell l">Side</span>
            <span className="cell r">Price ¢</span>
            <span className="cell r">Qty</span>
            <span className="cell r">Model</span>
            <span className="cell r">Latency</span>
            <span className="cell l">Detail</span>
          </div>
        }
        row={(i, top) => {
          const item = itemAt(i);
          return item === undefined ? null : <FeedRow key={item.id} item={item} top={top} />;
        }}
        empty={<Empty>{tradesOnly ? 'No orders or fills yet.' : 'Waiting for decisions…'}</Empty>}
      />
    </div>
  );
}
