import { useEffect, useMemo } from 'react';
import type { BookView } from '../../../src/server/protocol';
import { DepthChart } from '../components/depthChart';
import { type ChartMarker, TimeChart } from '../components/timeChart';
import { Badge, EmptyRow, ErrorBanner, Panel, Stat } from '../components/ui';
import { formatCents, formatClock, formatContracts, formatInt, formatNumber, formatUsd } from '../format';
import { HISTORY, store, useLive } from '../liveStore';
import { href } from '../router';
import { usePoll } from '../usePoll';

const LADDER_LEVELS = 12;

function Ladder({ book }: { readonly book: BookView | undefined }) {
  const bids = book?.bids.slice(0, LADDER_LEVELS) ?? [];
  const asks = book?.asks.slice(0, LADDER_LEVELS) ?? [];
  const rows = Math.max(bids.length, asks.length);
  const max = Math.max(1, ...bids.map((l) => l.size), ...asks.map((l) => l.size));
  return (
    <table className="grid ladder" data-testid="ladder">
      <thead>
        <tr>
          <th className="r">Bid size</th>
          <th className="r">Bid ¢</th>
          <th className="r">Ask ¢</th>
          <th className="r">Ask size</th>
        </tr>
      </thead>
      <tbody>
        {Array.from({ length: rows }, (_, i) => {
          const b = bids[i];
          const a = asks[i];
          return (
            <tr key={i}>
              <td className="r num bar-cell">
                {b === undefined ? null : <i className="bar bar-bid" style={{ width: `${(b.size / max) * 100}%` }} />}
                <span>{b === undefined ? '' : formatNumber(b.size, b.size % 1 === 0 ? 0 : 2)}</span>
              </td>
              <td className="r num bid">{b === undefined ? '' : formatCents(b.price)}</td>
              <td className="r num ask">{a === undefined ? '' : formatCents(a.price)}</td>
              <td className="r num bar-cell">
                {a === undefined ? null : <i className="bar bar-ask" style={{ width: `${(a.size / max) * 100}%` }} />}
                <span>{a === undefined ? '' : formatNumber(a.size, a.size % 1 === 0 ? 0 : 2)}</span>
              </td>
            </tr>
          );
        })}
        {rows === 0 ? (
          <EmptyRow colSpan={4}>no levels</EmptyRow>
        ) : null}
      </tbody>
    </table>
  );
}

const cents = (v: number) => (v * 100).toFixed(1);

/** One market: depth and ladder, price / position / PnL over time with our orders and fills, its recent trades. */
export function MarketView({ ticker }: { readonly ticker: string }) {
  useLive();
  useEffect(() => {
    store.focus(ticker);
    return () => store.focus(null);
  }, [ticker]);
  // The REST book until the stream delivers one (and while the stream is down).
  const streamed = store.book(ticker);
  const rest = usePoll<BookView>(ticker === '' ? null : `rl/orderbook/${encodeURIComponent(ticker)}`, streamed === undefined ? 1000 : null);
  const book = streamed ?? rest.data ?? undefined;
  const row = store.rows.get(ticker);
  const state = store.bookState(ticker);

  const history = store.history.get(ticker);
  const markerList = store.markers.get(ticker);
  const revision = (history?.revision ?? 0) * 1000 + (markerList?.length ?? 0);
  const data = useMemo(() => history?.columns() ?? [[], [], [], [], []], [history, revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const priceData = useMemo(() => [data[0], data[HISTORY.bid + 1]!, data[HISTORY.ask + 1]!] as [number[], ...(number | null)[][]], [data]);
  const positionData = useMemo(() => [data[0], data[HISTORY.position + 1]!] as [number[], ...(number | null)[][]], [data]);
  const pnlData = useMemo(() => [data[0], data[HISTORY.pnl + 1]!] as [number[], ...(number | null)[][]], [data]);
  const markers = useMemo(
    (): ChartMarker[] =>
      (markerList ?? []).map((m) => ({ t: m.t, y: m.price, shape: m.kind === 'order' ? 'ring' : m.side === 'bid' ? 'up' : 'down', color: m.side === 'bid' ? 'bid' : 'ask' })),
    [markerList, revision], // eslint-disable-line react-hooks/exhaustive-deps
  );
  const trades = store.trades.filter((i) => i.market === ticker).slice(0, 200);

  if (ticker === '') return <div className="view empty">Pick a market in the Markets view.</div>;
  const bid = book?.bestBid ?? row?.bestBid ?? null;
  const ask = book?.bestAsk ?? row?.bestAsk ?? null;
  return (
    <div className="view" data-testid="market-view">
      <div className="toolbar">
        <a className="back" href={href('markets')}>
          ← Markets
        </a>
        <h1 className="mono" data-testid="market-ticker">
          {ticker}
        </h1>
        <Badge kind={state}>{state}</Badge>
        <span className="dim small">book v{formatInt(book?.version)} · exchange time {formatClock(book?.tsMs)}</span>
      </div>
      <ErrorBanner error={streamed === undefined ? rest.error : null} />
      <div className="stats">
        <Stat label="Bid ¢" value={formatCents(bid)} testId="market-bid" />
        <Stat label="Ask ¢" value={formatCents(ask)} testId="market-ask" />
        <Stat label="Spread ¢" value={bid === null || ask === null ? '—' : formatCents(ask - bid)} />
        <Stat label="Mid ¢" value={formatCents(book?.mid ?? null)} />
        <Stat label="Position" value={formatContracts(row?.position)} sign={row?.position ?? null} />
        <Stat label="PnL $" value={formatUsd(row?.pnl)} sign={row?.pnl ?? null} />
        <Stat label="Decisions" value={formatInt(row?.decisions)} />
        <Stat label="Last action" value={row?.lastAction ?? '—'} />
        <Stat label="Model" value={row?.modelVersion === null || row?.modelVersion === undefined ? '—' : `v${row.modelVersion}`} />
      </div>
      <div className="row-2">
        <Panel title="Depth" right={<span className="dim small">cumulative contracts by price (¢), {book?.bids.length ?? 0} / {book?.asks.length ?? 0} levels</span>} className="grow">
          <DepthChart book={book} height={230} />
        </Panel>
        <Panel title="Ladder" className="ladder-panel">
          <Ladder book={book} />
        </Panel>
      </div>
      <Panel
        title="Price, position and PnL"
        right={
          <span className="legend-note">
            <i className="mk ring" /> our order <i className="mk up" /> buy fill <i className="mk down" /> sell fill
          </span>
        }
      >
        <TimeChart
          testId="price-chart"
          data={priceData}
          revision={revision}
          height={200}
          sync={`market-${ticker}`}
          series={[
            { label: 'bid ¢', color: 'bid', format: cents },
            { label: 'ask ¢', color: 'ask', format: cents },
          ]}
          yFormat={cents}
          markers={markers}
        />
        <div className="row-2 charts-pair">
          <TimeChart
            data={positionData}
            revision={revision}
            height={120}
            sync={`market-${ticker}`}
            series={[{ label: 'position', color: 'accent', step: true, format: (v) => formatContracts(v) }]}
            yFormat={(v) => formatNumber(v, Number.isInteger(v) ? 0 : 1)}
          />
          <TimeChart
            data={pnlData}
            revision={revision}
            height={120}
            sync={`market-${ticker}`}
            series={[{ label: 'PnL $', color: 'text', format: (v) => formatUsd(v) }]}
            yFormat={(v) => formatNumber(v, 3)}
          />
        </div>
      </Panel>
      <Panel title={`Orders and fills (${trades.length})`} right={<span className="dim small">since this page opened</span>}>
        <table className="grid">
          <thead>
            <tr>
              <th className="l">Time</th>
              <th className="l">Kind</th>
              <th className="l">Action</th>
              <th className="l">Side</th>
              <th className="r">Price ¢</th>
              <th className="r">Qty</th>
              <th className="l">Detail</th>
            </tr>
          </thead>
          <tbody>
            {trades.map((item) => {
              const m = item.message;
              if (m.type === 'event') return null;
              const order = m.type === 'fill' ? m : m.order!;
              return (
                <tr key={item.id}>
                  <td className="l num dim">{formatClock(m.tsMs)}</td>
                  <td className="l">
                    <span className={`kind kind-${item.kind}`}>{item.kind}</span>
                  </td>
                  <td className="l mono">{m.type === 'decision' ? m.action : m.isTaker ? 'taker' : 'maker'}</td>
                  <td className={`l ${order.side}`}>{order.side === 'bid' ? 'buy' : 'sell'}</td>
                  <td className="r num">{formatCents(order.price)}</td>
                  <td className="r num">{formatNumber(order.count, order.count % 1 === 0 ? 0 : 2)}</td>
                  <td className="l dim">{m.type === 'decision' ? (m.reject ?? (m.executed ? m.order!.timeInForce : 'not executed')) : `fee $${m.fee.toFixed(4)}`}</td>
                </tr>
              );
            })}
            {trades.length === 0 ? (
              <EmptyRow colSpan={7}>No orders or fills in this market since the page opened.</EmptyRow>
            ) : null}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}
