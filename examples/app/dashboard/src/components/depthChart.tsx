import { useEffect, useRef } from 'react';
import type { BookView, LevelView } from '../../../src/server/protocol';
import { cssColor, useTheme } from '../theme';

/** Cumulative size from the best price outward: `[price, total]` pairs. */
function cumulative(levels: readonly LevelView[]): [number, number][] {
  let total = 0;
  return levels.map((l) => [l.price, (total += l.size)]);
}

/** A round tick step (1, 2 or 5 × 10^k) near `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(Math.max(raw, 1e-9)));
  const m = raw / p;
  return (m < 1.5 ? 1 : m < 3.5 ? 2 : m < 7.5 ? 5 : 10) * p;
}

function draw(canvas: HTMLCanvasElement, book: BookView | undefined): void {
  const dpr = devicePixelRatio;
  const width = canvas.clientWidth;
  const height = canvas.clientHeight;
  if (canvas.width !== Math.round(width * dpr) || canvas.height !== Math.round(height * dpr)) {
    canvas.width = Math.round(width * dpr);
    canvas.height = Math.round(height * dpr);
  }
  const ctx = canvas.getContext('2d')!;
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.clearRect(0, 0, width, height);
  const text = cssColor('text-dim');
  const grid = cssColor('grid');
  ctx.font = '11px ' + getComputedStyle(document.documentElement).getPropertyValue('--mono');
  const bids = cumulative(book?.bids ?? []);
  const asks = cumulative(book?.asks ?? []);
  if (bids.length === 0 && asks.length === 0) {
    ctx.fillStyle = text;
    ctx.textAlign = 'center';
    ctx.fillText(book === undefined ? 'waiting for the book…' : 'empty book', width / 2, height / 2);
    return;
  }
  const pad = { left: 22, right: 52, top: 10, bottom: 22 };
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const prices = [...bids.map((b) => b[0]), ...asks.map((a) => a[0])];
  let lo = Math.min(...prices);
  let hi = Math.max(...prices);
  // Centre on the touch so both sides get the same width.
  const mid = book?.mid ?? (lo + hi) / 2;
  const half = Math.max(mid - lo, hi - mid, 0.01);
  lo = mid - half;
  hi = mid + half;
  const maxSize = Math.max(bids.at(-1)?.[1] ?? 0, asks.at(-1)?.[1] ?? 0, 1);
  const x = (p: number) => pad.left + ((p - lo) / (hi - lo)) * plotW;
  const y = (s: number) => pad.top + plotH - (s / maxSize) * plotH;

  // Grid and axes.
  ctx.strokeStyle = grid;
  ctx.lineWidth = 1;
  ctx.fillStyle = text;
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  const step = niceStep(maxSize / 4);
  for (let s = 0; s <= maxSize; s += step) {
    const yy = Math.round(y(s)) + 0.5;
    ctx.beginPath();
    ctx.moveTo(pad.left, yy);
    ctx.lineTo(pad.left + plotW, yy);
    ctx.stroke();
    ctx.fillText(s >= 1000 ? `${(s / 1000).toFixed(1)}k` : s.toFixed(0), pad.left + plotW + 6, yy);
  }
  ctx.textAlign = 'center';
  ctx.textBaseline = 'top';
  const steps = 6;
  for (let k = 0; k <= steps; k++) {
    const p = lo + ((hi - lo) * k) / steps;
    ctx.fillText(`${(p * 100).toFixed(1)}`, x(p), pad.top + plotH + 6);
  }

  // Each side as a stepped area from the touch outward.
  const side = (points: [number, number][], color: string, dir: 1 | -1) => {
    if (points.length === 0) return;
    ctx.beginPath();
    ctx.moveTo(x(points[0]![0]), y(0));
    let prev = 0;
    for (const [p, s] of points) {
      ctx.lineTo(x(p), y(prev));
      ctx.lineTo(x(p), y(s));
      prev = s;
    }
    const edge = dir < 0 ? lo : hi;
    ctx.lineTo(x(edge), y(prev));
    ctx.lineTo(x(edge), y(0));
    ctx.closePath();
    ctx.globalAlpha = 0.18;
    ctx.fillStyle = color;
    ctx.fill();
    ctx.globalAlpha = 1;
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  };
  side(bids, cssColor('bid'), -1);
  side(asks, cssColor('ask'), 1);

  // The mid.
  if (book?.mid !== null && book?.mid !== undefined) {
    ctx.setLineDash([3, 3]);
    ctx.strokeStyle = text;
    ctx.beginPath();
    ctx.moveTo(Math.round(x(book.mid)) + 0.5, pad.top);
    ctx.lineTo(Math.round(x(book.mid)) + 0.5, pad.top + plotH);
    ctx.stroke();
    ctx.setLineDash([]);
  }
}

/** Depth: cumulative bid (left) and ask (right) size by price, in cents, centred on the mid. */
export function DepthChart({ book, height }: { readonly book: BookView | undefined; readonly height: number }) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const latest = useRef(book);
  latest.current = book;
  const theme = useTheme();
  useEffect(() => {
    if (canvas.current !== null) draw(canvas.current, book);
    // Redraw when the book's version changes (the store hands the same object until then).
  }, [book, theme]);
  useEffect(() => {
    const el = canvas.current;
    if (el === null) return;
    const resize = new ResizeObserver(() => draw(el, latest.current));
    resize.observe(el);
    return () => resize.disconnect();
  }, []);
  return <canvas ref={canvas} className="depth" style={{ height }} data-testid="depth-chart" />;
}
