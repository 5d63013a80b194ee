import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { CAC } from 'cac';
import {
  type CaptureSummary,
  type SimConfig,
  type SpeedFactor,
  type TickStructure,
  createExchangeServer,
  generateCapture,
  measureEdge,
} from '@kflow/sim';
import { type SimFlags, optional, simConfigOf, speedFactor, userPath, wholeNumber } from '../flags';
import { formatTable, printJson } from '../output';
import { evaluateOracleOnSet, simulateSet } from '../simSets';
import { toEvalSummary } from './eval';
import { HELD_OUT_EVAL_SEED, clusteredT } from './learningCheck';

interface SimOptions extends SimFlags {
  edge?: string;
  tick?: string;
  fractional?: boolean;
  out?: string;
  /** `true` (bare flag): evaluate the oracle baseline; a file name: write the latents there (the older spelling of `--latents`). */
  oracle?: string | boolean;
  latents?: string;
  episodes?: string;
  serve?: boolean;
  analyze?: boolean;
  port?: string;
  speed?: string;
  publicKey?: string;
  json?: boolean;
}

/** Appends lines to a file through a 1 MiB buffer (the simulator produces ~300k lines/s). */
function createLineWriter(path: string) {
  const fd = openSync(path, 'w');
  let buffer = '';
  const flush = () => {
    if (buffer.length > 0) writeSync(fd, buffer);
    buffer = '';
  };
  return {
    write(line: string) {
      buffer += `${line}\n`;
      if (buffer.length > 1 << 20) flush();
    },
    close() {
      flush();
      closeSync(fd);
    },
  };
}

function configFrom(o: SimOptions): SimConfig {
  const edge = optional(o.edge, (v) => {
    const x = Number(v);
    if (String(v).trim() === '' || !(x >= 0 && x <= 1)) throw new Error(`--edge must be a number in [0, 1], got "${v}"`);
    return x;
  });
  return simConfigOf(o, {
    ...(edge === undefined ? {} : { edge }),
    ...(o.tick === undefined ? {} : { tickStructure: o.tick as TickStructure }),
    ...(o.fractional ? { fractionalSizes: true } : {}),
  });
}

function printSummary(summary: CaptureSummary, out: string, oracle: string | undefined, seconds: number): void {
  console.log(
    `sim ${summary.preset} seed ${summary.seed} edge ${summary.edge}: ${summary.frames} frames, ` +
      `${summary.markets.length} markets, ${((summary.endMs - summary.startMs) / 60_000).toFixed(1)} min → ${out}` +
      `${oracle === undefined ? '' : ` (oracle → ${oracle})`} in ${seconds.toFixed(2)} s`,
  );
  const rows = summary.markets.map((m) => [m.ticker, String(m.deltas), String(m.trades), m.result]);
  console.log(formatTable(['market', 'deltas', 'trades', 'result'], rows));
}

async function serve(config: SimConfig, o: SimOptions): Promise<void> {
  const speed: SpeedFactor = o.speed === undefined ? 1 : speedFactor(o.speed);
  const server = await createExchangeServer({
    config,
    speed,
    port: optional(o.port, (v) => wholeNumber(v, 'port', 0)) ?? 0,
    ...(o.publicKey === undefined ? {} : { auth: { publicKey: readFileSync(userPath(o.publicKey), 'utf8') } }),
  });
  const markets = server.markets.map((m) => m.ticker);
  if (o.json) printJson({ url: server.url, markets, speed });
  else console.log(`exchange at ${server.url} (speed ${speed}); markets: ${markets.join(', ')}; starts on the first subscribe`);
  const stop = () => void server.close();
  process.once('SIGINT', stop);
  const result = await server.finished;
  process.off('SIGINT', stop);
  if (!o.json) console.log(`session ${result.completed ? 'finished' : 'stopped'}: ${result.events} events; results ${JSON.stringify(result.results)}`);
  await server.close();
}

/** `kflow sim --oracle`: the oracle baseline's held-out figures on the config's markets (in memory, nothing written). */
function reportOracle(config: SimConfig, o: SimOptions): void {
  const episodes = wholeNumber(o.episodes ?? '100', 'episodes', 1);
  const r = evaluateOracleOnSet(simulateSet([config]), episodes, HELD_OUT_EVAL_SEED);
  const tStat = clusteredT(r.pnls, r.tickers);
  const figures = { ...toEvalSummary('oracle', r), tStat };
  if (o.json) printJson({ preset: config.preset, seed: config.seed, edge: config.edge, tickStructure: config.tickStructure, fractionalSizes: config.fractionalSizes, ...figures });
  else {
    console.log(
      `oracle on ${config.preset} seed ${config.seed} edge ${config.edge} (${config.tickStructure}${config.fractionalSizes ? ', fractional' : ''}), ` +
        `${episodes} episodes: PnL $${r.meanPnl.toFixed(4)} ± ${r.stdPnl.toFixed(4)} after fees (Sharpe ${r.sharpe.toFixed(3)}, t ${tStat.toFixed(2)} clustered by market), ` +
        `${r.meanTrades.toFixed(1)} trades/episode, win rate ${(100 * r.winRate).toFixed(0)}%, fees $${r.feesPaid.toFixed(4)}`,
    );
  }
}

export function registerSim(cli: CAC): void {
  cli
    .command('sim', 'Simulate Kalshi markets: write a JSONL capture, or serve them over the Kalshi WebSocket protocol')
    .option('--preset <name>', 'calm | volatile | informed', { default: 'informed' })
    .option('--seed <n>', 'Random seed (same seed + options = identical output)', { default: '1' })
    .option('--sim-markets <n>', 'Number of markets', { default: '4' })
    .option('--sim-minutes <t>', 'Session length in exchange minutes', { default: '10' })
    .option('--edge <x>', 'Exploitable structure in [0, 1] (default: the preset\'s; 0 = nothing observable predicts the mid)')
    .option('--tick <structure>', 'linear_cent | deci_cent | tapered_deci_cent')
    .option('--fractional', 'Fractional contract sizes')
    .option('--out <file>', 'Capture file (one raw Kalshi frame per line)')
    .option('--oracle [file]', 'Report the oracle baseline (it reads the latent) on this config: Sharpe and mean PnL after fees. With a file: same as --latents')
    .option('--latents <file>', 'Also write the latent probabilities (JSONL) next to --out')
    .option('--episodes <n>', 'Episodes of the --oracle evaluation', { default: '100' })
    .option('--serve', 'Run the exchange server instead of writing a capture')
    .option('--analyze', 'Measure how well book imbalance, taker flow and momentum predict the mid (the edge knob at work)')
    .option('--port <n>', 'Server port (default: a free one)')
    .option('--speed <x>', "Server speed: 1 = real time, N = N× faster, 'max'")
    .option('--public-key <file>', 'Require RSA-PSS signed handshakes against this PEM public key')
    .option('--json', 'Print one JSON object')
    .action(async (o: SimOptions) => {
      const config = configFrom(o);
      if (o.serve) return serve(config, o);
      if (o.analyze) {
        const report = measureEdge(config);
        if (o.json) printJson({ preset: config.preset, seed: config.seed, edge: config.edge, ...report });
        else {
          const c = report.correlations;
          console.log(
            `${config.preset} edge ${config.edge}: correlation with the mid move over the next ${report.horizonSec} s ` +
              `(${report.samples} windows): imbalance ${c.imbalance.toFixed(3)}, flow ${c.flow.toFixed(3)}, momentum ${c.momentum.toFixed(3)}; ` +
              `mean |latent − mid| ${report.meanLatentGapCents.toFixed(2)}¢, mean spread ${report.meanSpreadCents.toFixed(2)}¢`,
          );
        }
        return;
      }
      if (o.oracle === true) return reportOracle(config, o);
      if (o.out === undefined) throw new Error('--out <file> is required (or use --serve, --analyze or --oracle)');
      if (typeof o.oracle === 'string' && o.latents !== undefined) throw new Error('give the latents file once: --latents <file> (--oracle <file> is its older spelling)');
      const latentsFile = o.latents ?? (typeof o.oracle === 'string' ? o.oracle : undefined);
      const frames = createLineWriter(userPath(o.out));
      const oracle = latentsFile === undefined ? undefined : createLineWriter(userPath(latentsFile));
      const t0 = performance.now();
      let summary: CaptureSummary;
      try {
        summary = generateCapture(config, {
          onFrame: frames.write,
          ...(oracle === undefined ? {} : { onOracle: oracle.write }),
        });
      } finally {
        frames.close();
        oracle?.close();
      }
      const seconds = (performance.now() - t0) / 1000;
      if (o.json) printJson({ out: o.out, ...(latentsFile === undefined ? {} : { oracle: latentsFile }), ...summary });
      else printSummary(summary, o.out, latentsFile, seconds);
    });
}
