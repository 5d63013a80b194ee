import { generateCapture, resolveSimConfig } from '@kflow/sim';
const t0 = performance.now();
let n = 0; let bytes = 0;
const lines: string[] = [];
const s = generateCapture(resolveSimConfig(process.argv[2] ?? 'informed', { seed: 1, markets: 4, durationMs: 10*60_000 }), { onFrame: (l) => { n++; bytes += l.length; if (lines.length < 12) lines.push(l); } });
console.log(JSON.stringify(s), (performance.now()-t0).toFixed(0), 'ms', bytes);
console.log(lines.join('\n'));
