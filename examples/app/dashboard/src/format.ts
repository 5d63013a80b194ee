/** Number and time formatting: fixed decimals so right-aligned monospace columns line up. */

const DASH = '—';

/** A YES price (probability) in cents with one decimal: 0.455 → "45.5". */
export function formatCents(price: number | null | undefined): string {
  return price === null || price === undefined ? DASH : (price * 100).toFixed(1);
}

/** Dollars with a sign and four decimals (the micro-dollar PnL of a few contracts needs them): "+0.0123". */
export function formatUsd(x: number | null | undefined, decimals = 4): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  const fixed = Math.abs(x).toFixed(decimals);
  if (Number(fixed) === 0) return (0).toFixed(decimals);
  return `${x < 0 ? '−' : '+'}${fixed}`;
}

/** Contracts, signed: +YES / −NO. */
export function formatContracts(x: number | null | undefined): string {
  if (x === null || x === undefined) return DASH;
  if (x === 0) return '0';
  const text = Number.isInteger(x) ? String(Math.abs(x)) : Math.abs(x).toFixed(2);
  return `${x < 0 ? '−' : '+'}${text}`;
}

const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** A count with thousands separators (one shared formatter: `toLocaleString` builds one per call). */
export function formatInt(x: number | null | undefined): string {
  if (x === null || x === undefined || !Number.isFinite(x)) return DASH;
  return Math.abs(x) < 1000 ? String(Math.round(x)) : GROUPED.format(Math.round(x));
}

export function formatNumber(x: number | null | undefined, decimals = 2): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : x.toFixed(decimals);
}

export function formatPercent(x: number | null | undefined, decimals = 1): string {
  return x === null || x === undefined || !Number.isFinite(x) ? DASH : `${(x * 100).toFixed(decimals)}%`;
}

/** Microseconds, as µs below a millisecond and ms above. */
export function formatMicros(x: number | null | undefined): string {
  if (x === null || x === undefined) return DASH;
  return x < 1000 ? `${x.toFixed(0)} µs` : `${(x / 1000).toFixed(2)} ms`;
}

/** The CSS class of a signed number: green above zero, red below, nothing at zero. */
export function signClass(x: number | null | undefined): string {
  if (x === null || x === undefined || x === 0) return '';
  return x > 0 ? 'pos' : 'neg';
}

const two = (n: number) => String(n).padStart(2, '0');

/** Local wall-clock time of a timestamp in ms: "14:03:07.125". */
export function formatClock(ms: number | null | undefined, withMillis = true): string {
  if (ms === null || ms === undefined) return DASH;
  const d = new Date(ms);
  const base = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return withMillis ? `${base}.${String(d.getMilliseconds()).padStart(3, '0')}` : base;
}

/** Local date and time: "2026-05-04 14:03". */
export function formatDateTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return DASH;
  const d = new Date(ms);
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${two(d.getHours())}:${two(d.getMinutes())}`;
}

/** A duration: "850 ms", "12.3 s", "4m 05s", "2h 07m". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || ms < 0) return DASH;
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const s = Math.floor(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${two(s % 60)}s`;
  return `${Math.floor(s / 3600)}h ${two(Math.floor(s / 60) % 60)}m`;
}

/** A compact rendering of a loosely typed value (performance records, event details). */
export function formatValue(v: unknown): string {
  if (v === null || v === undefined) return DASH;
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : String(Number(v.toPrecision(4)));
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  return JSON.stringify(v);
}
