import { createRng, parseFrame, replay, SharedOrderbookState } from '@kflow/orderbook';
import { syntheticCapture } from './bench/orderbook.bench';
const lines = syntheticCapture(200_000, 5, createRng(2026));
const objs = lines.map((l) => JSON.parse(l));
const best: Record<string, number> = {};
function time(name: string, fn: () => void) { const t=process.hrtime.bigint(); fn(); const s=Number(process.hrtime.bigint()-t)/1e9; best[name] = Math.min(best[name] ?? Infinity, s / lines.length * 1e9); }
let x = 0;
for (let r = 0; r < 12; r++) {
  time('json', () => { for (const l of lines) x += (JSON.parse(l) as any).seq; });
  time('parseObj', () => { for (const o of objs) x += parseFrame(o).seq ?? 0; });
  time('parseStr', () => { for (const l of lines) x += parseFrame(l).seq ?? 0; });
  const frames = objs.map((o) => parseFrame(o));
  time('apply', () => { const s = new SharedOrderbookState(); for (const f of frames) s.applyFrame(f); x += s.counters.frames; });
  time('replay', () => { x += replay(lines).counters.frames; });
}
console.log(Object.fromEntries(Object.entries(best).map(([k, v]) => [k, Math.round(v)])), 'ratio', (best.json! / best.replay!).toFixed(3));
