import { createSimulator, resolveSimConfig } from '@kflow/sim';
const preset = process.argv[2] ?? 'informed';
const edge = Number(process.argv[3] ?? 1);
const seed = Number(process.argv[4] ?? 1);
const cfg = resolveSimConfig(preset, { seed, markets: 8, durationMs: 15 * 60_000, edge });
const latent = new Map<string, number>();
const sim = createSimulator(cfg, { onOracle: (r) => latent.set(r.ticker, r.latent) });
type S = { t: number; mid: number; bid: number; ask: number; imb5: number; imb1: number; flow: number; lat: number; spread: number };
const samples = new Map<string, S[]>();
const flows = new Map<string, { t: number; q: number }[]>();
for (const m of sim.markets) { samples.set(m.ticker, []); flows.set(m.ticker, []); }
let nextSample = cfg.startMs + 1000;
let events = 0, trades = 0;
const take = () => {
  for (const m of sim.markets) {
    const b = sim.book(m.ticker)!;
    const fl = flows.get(m.ticker)!;
    while (fl.length && fl[0]!.t < nextSample - 10_000) fl.shift();
    const flow = fl.reduce((a, x) => a + x.q, 0);
    samples.get(m.ticker)!.push({ t: nextSample, mid: b.mid() / 100, bid: b.bestBid('yes') / 100, ask: b.bestAsk('yes') / 100, imb5: b.imbalance(5), imb1: b.imbalance(1), flow, lat: latent.get(m.ticker)! * 100, spread: b.spread() / 100 });
  }
};
for (let e = sim.next(); e; e = sim.next()) {
  while (e.tsMs >= nextSample) { take(); nextSample += 1000; }
  events++;
  if (e.kind === 'trade') { trades++; flows.get(e.ticker)!.push({ t: e.tsMs, q: (e.takerSide === 'yes' ? 1 : -1) * e.countCenti / 100 }); }
}
const corr = (a: number[], b: number[]) => { const n = a.length; const ma = a.reduce((x, y) => x + y) / n, mb = b.reduce((x, y) => x + y) / n; let sab = 0, saa = 0, sbb = 0; for (let i = 0; i < n; i++) { sab += (a[i]! - ma) * (b[i]! - mb); saa += (a[i]! - ma) ** 2; sbb += (b[i]! - mb) ** 2; } return sab / Math.sqrt(saa * sbb); };
const fee = (pc: number) => Math.ceil(7 * (pc / 100) * (1 - pc / 100) * 100) / 100; // cents per contract, ceil to 0.01¢
console.log(`${preset} edge=${edge} seed=${seed}: events/s/market=${(events / 900 / 8).toFixed(1)} trades/s/market=${(trades / 900 / 8).toFixed(2)}`);
let spreadSum = 0, spreadN = 0, gapSum = 0;
for (const H of [5, 15, 30, 60]) {
  const xs: Record<string, number[]> = { imb5: [], imb1: [], flow: [], mom: [], gap: [] }; const ys: number[] = [];
  for (const ss of samples.values()) for (let i = 10; i + H < ss.length; i++) {
    const s = ss[i]!; ys.push(ss[i + H]!.mid - s.mid); xs.imb5!.push(s.imb5); xs.imb1!.push(s.imb1); xs.flow!.push(s.flow); xs.mom!.push(s.mid - ss[i - 10]!.mid); xs.gap!.push(s.lat - s.mid);
    if (H === 5) { spreadSum += s.spread; spreadN++; gapSum += Math.abs(s.lat - s.mid); }
  }
  console.log(`H=${H}s corr: ` + Object.entries(xs).map(([k, v]) => `${k}=${corr(v, ys).toFixed(3)}`).join(' '));
}
console.log(`mean spread ${(spreadSum / spreadN).toFixed(2)}¢ mean |latent-mid| ${(gapSum / spreadN).toFixed(2)}¢`);
// Simple taker strategy on flow signal: enter at ask/bid, exit after H at bid/ask, fees both ways.
for (const [name, key, th] of [["flow", "flow", 300], ['imb5', 'imb5', 0.3], ['mom', 'mom', 2]] as const) for (const H of [15, 30, 60]) {
  let pnl = 0, n = 0;
  for (const ss of samples.values()) for (let i = 10; i + H < ss.length; ) {
    const s = ss[i]!; const sig = key === 'mom' ? s.mid - ss[i - 10]!.mid : (s as any)[key];
    if (sig > th) { const x = ss[i + H]!; pnl += x.bid - s.ask - fee(s.ask) - fee(x.bid); n++; i += H; }
    else if (sig < -th) { const x = ss[i + H]!; pnl += (100 - x.ask) - (100 - s.bid) - fee(s.bid) - fee(x.ask); n++; i += H; }
    else i++;
  }
  console.log(`strategy ${name}>${th} hold ${H}s: trades=${n} mean pnl ${(pnl / Math.max(1, n)).toFixed(2)}¢/contract`);
}
