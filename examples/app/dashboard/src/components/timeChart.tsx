import { useEffect, useRef } from 'react';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { formatClock } from '../format';
import { cssColor, useTheme } from '../theme';

export interface ChartSeries {
  readonly label: string;
  /** A palette name (CSS variable without `--`). */
  readonly color: string;
  readonly width?: number;
  readonly dash?: readonly number[];
  /** Draw as steps (positions). */
  readonly step?: boolean;
  /** Which y scale (default 'y'); a second scale gets its own axis on the right. */
  readonly scale?: string;
  readonly format?: (v: number) => string;
}

/** A point drawn over the lines (orders and fills on a price chart). */
export interface ChartMarker {
  readonly t: number;
  readonly y: number;
  readonly shape: 'up' | 'down' | 'ring';
  /** A palette name. */
  readonly color: string;
}

export interface TimeChartProps {
  /** `[x, ...ys]`: x ascending (ms since the epoch for time axes). */
  readonly data: uPlot.AlignedData;
  /** Changes when the data changed; the chart redraws only then. */
  readonly revision: number;
  readonly series: readonly ChartSeries[];
  readonly height: number;
  /** 'time': x is ms since the epoch; 'number': x is a count (training timesteps). */
  readonly x?: 'time' | 'number';
  readonly yFormat?: (v: number) => string;
  readonly y2Format?: (v: number) => string;
  /** Charts with the same key share the cursor. */
  readonly sync?: string;
  readonly markers?: readonly ChartMarker[];
  readonly title?: string;
  readonly testId?: string;
}

function markerPlugin(get: () => readonly ChartMarker[] | undefined): uPlot.Plugin {
  return {
    hooks: {
      draw: (u) => {
        const markers = get();
        if (markers === undefined || markers.length === 0) return;
        const ctx = u.ctx;
        const [xMin, xMax] = [u.scales.x!.min ?? -Infinity, u.scales.x!.max ?? Infinity];
        const r = 4 * devicePixelRatio;
        ctx.save();
        ctx.beginPath();
        ctx.rect(u.bbox.left, u.bbox.top, u.bbox.width, u.bbox.height);
        ctx.clip();
        ctx.lineWidth = 1.5 * devicePixelRatio;
        const colors = new Map<string, string>();
        for (const m of markers) {
          if (m.t < xMin || m.t > xMax) continue;
          const x = u.valToPos(m.t, 'x', true);
          const y = u.valToPos(m.y, 'y', true);
          let color = colors.get(m.color);
          if (color === undefined) colors.set(m.color, (color = cssColor(m.color)));
          ctx.beginPath();
          if (m.shape === 'ring') {
            ctx.strokeStyle = color;
            ctx.arc(x, y, r * 0.8, 0, 2 * Math.PI);
            ctx.stroke();
          } else {
            const d = m.shape === 'up' ? 1 : -1;
            ctx.fillStyle = color;
            ctx.moveTo(x, y - d * r);
            ctx.lineTo(x - r, y + d * r);
            ctx.lineTo(x + r, y + d * r);
            ctx.closePath();
            ctx.fill();
          }
        }
        ctx.restore();
      },
    },
  };
}

/** Auto range with 5% headroom; a flat series gets ±1 around its value instead of uPlot's 0..100. */
function padRange(_u: uPlot, min: number | null, max: number | null): uPlot.Range.MinMax {
  if (min === null || max === null) return [0, 1];
  if (min === max) {
    const pad = Math.abs(min) * 0.1 || 1;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.05;
  return [min - pad, max + pad];
}

/** A uPlot line chart that fills its container's width and follows the theme. */
export function TimeChart(p: TimeChartProps) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const markers = useRef(p.markers);
  markers.current = p.markers;
  const latest = useRef(p.data);
  latest.current = p.data;
  const theme = useTheme();
  const seriesKey = p.series.map((s) => `${s.label}:${s.color}:${s.scale ?? 'y'}`).join('|');

  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    const text = cssColor('text-dim');
    const font = `11px ${getComputedStyle(document.documentElement).getPropertyValue('--mono').trim() || 'monospace'}`;
    const grid = cssColor('grid');
    const axis = (scale: string, side: 0 | 1 | 2 | 3, format?: (v: number) => string): uPlot.Axis => ({
      scale,
      side,
      stroke: text,
      font,
      grid: { stroke: grid, width: 1, show: side !== 1 },
      ticks: { stroke: grid, width: 1, size: 4 },
      size: side === 2 ? 24 : 58,
      gap: 4,
      ...(side === 2 ? { space: 70 } : { space: 28 }),
      ...(format === undefined ? {} : { values: (_u: uPlot, ticks: number[]) => ticks.map(format) }),
    });
    const hasY2 = p.series.some((s) => s.scale !== undefined && s.scale !== 'y');
    const y2 = p.series.find((s) => s.scale !== undefined && s.scale !== 'y')?.scale;
    const opts: uPlot.Options = {
      width: Math.max(100, el.clientWidth),
      height: p.height,
      ms: 1,
      pxAlign: 0,
      legend: { show: true, live: true },
      cursor: { points: { size: 6 }, ...(p.sync === undefined ? {} : { sync: { key: p.sync } }), drag: { x: true, y: false } },
      scales: {
        x: { time: (p.x ?? 'time') === 'time' },
        y: { range: padRange },
        ...(y2 === undefined ? {} : { [y2]: { range: padRange } }),
      },
      axes: [
        axis('x', 2, p.x === 'number' ? (v) => (Math.abs(v) >= 1000 ? `${(v / 1000).toFixed(0)}k` : String(v)) : (v) => formatClock(v, false)),
        axis('y', 3, p.yFormat),
        ...(hasY2 && y2 !== undefined ? [axis(y2, 1, p.y2Format)] : []),
      ],
      series: [
        {},
        ...p.series.map(
          (s): uPlot.Series => ({
            label: s.label,
            stroke: cssColor(s.color),
            width: s.width ?? 1.25,
            scale: s.scale ?? 'y',
            spanGaps: false,
            points: { show: false },
            ...(s.dash === undefined ? {} : { dash: [...s.dash] }),
            ...(s.step ? { paths: uPlot.paths.stepped!({ align: 1 }) } : {}),
            ...(s.format === undefined ? {} : { value: (_u: uPlot, v: number | null) => (v === null ? '—' : s.format!(v)) }),
          }),
        ),
      ],
      plugins: [markerPlugin(() => markers.current)],
    };
    const u = new uPlot(opts, latest.current, el);
    plot.current = u;
    const resize = new ResizeObserver(() => u.setSize({ width: Math.max(100, el.clientWidth), height: p.height }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.destroy();
      plot.current = null;
    };
    // The chart is rebuilt only when its shape or the theme changes; data flows through setData below.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [theme, seriesKey, p.height, p.sync, p.x]);

  useEffect(() => {
    plot.current?.setData(p.data);
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [p.revision]);

  return (
    <div className="chart" data-testid={p.testId}>
      {p.title === undefined ? null : <div className="chart-title">{p.title}</div>}
      <div ref={box} />
    </div>
  );
}
