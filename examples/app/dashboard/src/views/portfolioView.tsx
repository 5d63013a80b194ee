import { useMemo } from 'react';
import type { PositionRow } from '../api';
import { TimeChart } from '../components/timeChart';
import { EmptyRow, ErrorBanner, Panel, Stat } from '../components/ui';
import { formatClock, formatContracts, formatInt, formatMicros, formatNumber, formatPercent, formatUsd, signClass } from '../format';
import { store, useLive } from '../liveStore';
import { href } from '../router';
import { usePoll } from '../usePoll';

/** A Kalshi dollar string ("0.588000") with the four decimals the other money columns have. */
const dollars = (text: string) => (Number.isFinite(Number(text)) ? Number(text).toFixed(4) : text);

/** Rows drawn (largest |PnL| first); a table of 1,000 markets belongs in the Markets view. */
const MAX_ROWS = 300;

/** Total PnL over time, the session's metrics, and every position. */
export function PortfolioView() {
  useLive();
  const m = store.metrics.data;
  const positions = usePoll<{ positions: readonly PositionRow[] }>('rl/positions', 2000);
  const revision = store.pnl.revision;
  const data = useMemo(() => store.pnl.columns(), [revision]); // eslint-disable-line react-hooks/exhaustive-deps
  const rows = [...(positions.data?.positions ?? [])].sort((a, b) => Math.abs(b.pnl) - Math.abs(a.pnl) || a.ticker.localeCompare(b.ticker));
  const open = rows.filter((p) => Number(p.position_fp) !== 0).length;
  const shown = rows.slice(0, MAX_ROWS);

  return (
    <div className="view" data-testid="portfolio-view">
      <div className="toolbar">
        <h1>Portfolio</h1>
        <span className="dim small">metrics every second since {formatClock(data[0][0] ?? null, false)} · PnL marked to mid, fees included</span>
      </div>
      <ErrorBanner error={store.metrics.error} />
      <div className="stats">
        <Stat label="PnL $" value={formatUsd(m?.pnl)} sign={m?.pnl ?? null} testId="portfolio-pnl" />
        <Stat label="Sharpe" value={formatNumber(m?.sharpe, 2)} hint="mean/sd, per market" />
        <Stat label="Win rate" value={formatPercent(m?.winRate)} hint="of markets that traded" />
        <Stat label="Decisions" value={formatInt(m?.decisions)} />
        <Stat label="Orders" value={formatInt(m?.orders)} />
        <Stat label="Fills" value={formatInt(m?.fills)} />
        <Stat label="Fees $" value={formatNumber(m?.fees, 4)} />
        <Stat label="Latency p50" value={formatMicros(m?.decisionLatencyMicros.p50)} hint="book event → order" />
        <Stat label="Latency p99" value={formatMicros(m?.decisionLatencyMicros.p99)} hint={`max ${formatMicros(m?.decisionLatencyMicros.max)}`} />
        <Stat label="Queues" value={`${formatInt(m?.queueDepths.marketData)} / ${formatInt(m?.queueDepths.actions)}`} hint="market data / actions" />
      </div>
      <Panel title="PnL over time">
        <TimeChart
          testId="pnl-chart"
          data={data}
          revision={revision}
          height={220}
          series={[
            { label: 'PnL $', color: 'accent', width: 1.5, format: (v) => formatUsd(v) },
            { label: 'fees $', color: 'text-dim', dash: [4, 3], scale: 'fees', format: (v) => formatNumber(v, 4) },
          ]}
          yFormat={(v) => formatNumber(v, 3)}
          y2Format={(v) => formatNumber(v, 3)}
        />
      </Panel>
      <Panel title={`Positions (${open} open, ${rows.length} markets)`} right={<span className="dim small">GET /rl/positions every 2 s</span>}>
        <ErrorBanner error={positions.error} />
        <table className="grid" data-testid="positions">
          <thead>
            <tr>
              <th className="l">Market</th>
              <th className="r">Position</th>
              <th className="r">Exposure $</th>
              <th className="r">Realized $</th>
              <th className="r">Fees $</th>
              <th className="r">Traded $</th>
              <th className="r">Resting</th>
              <th className="r">PnL $</th>
              <th className="l">Updated</th>
            </tr>
          </thead>
          <tbody>
            {shown.map((p) => {
              const pos = Number(p.position_fp);
              const realized = Number(p.realized_pnl_dollars);
              return (
                <tr key={p.ticker}>
                  <td className="l ticker">
                    <a href={href('market', p.ticker)}>{p.ticker}</a>
                  </td>
                  <td className={`r num ${signClass(pos)}`}>{formatContracts(pos)}</td>
                  <td className="r num">{dollars(p.market_exposure_dollars)}</td>
                  <td className={`r num ${signClass(realized)}`}>{formatUsd(realized)}</td>
                  <td className="r num">{dollars(p.fees_paid_dollars)}</td>
                  <td className="r num">{dollars(p.total_traded_dollars)}</td>
                  <td className="r num">{formatInt(p.resting_orders_count)}</td>
                  <td className={`r num ${signClass(p.pnl)}`}>{formatUsd(p.pnl)}</td>
                  <td className="l num dim">{p.last_updated_ts === '' ? '—' : formatClock(Date.parse(p.last_updated_ts), false)}</td>
                </tr>
              );
            })}
            {rows.length > shown.length ? (
              <EmptyRow colSpan={9}>{rows.length - shown.length} more with a smaller |PnL|: see the Markets view.</EmptyRow>
            ) : null}
            {rows.length === 0 ? (
              <EmptyRow colSpan={9}>{positions.loading ? 'Loading…' : 'No positions.'}</EmptyRow>
            ) : null}
          </tbody>
        </table>
      </Panel>
    </div>
  );
}
