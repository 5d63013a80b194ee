import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  KALSHI_PPO,
  type KalshiEvaluation,
  type Policy,
  createHoldPolicy,
  createKalshiHeuristicPolicy,
  createRandomPolicy,
  loadPolicy,
  readCheckpoint,
} from '@kflow/agents';
import { kalshiEnvMetadata } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { parseTradingSetup, tradingSetupDifference } from '@kflow/paper';
import { DEFAULT_DOMAIN_RANDOMIZATION, type DomainRandomization, type SimConfigOverrides } from '@kflow/sim';
import type { CAC } from 'cac';
import { wholeNumber } from '../flags';
import { printJson } from '../output';
import { type SimSet, evaluateOnSet, evaluateOracleOnSet, simulateSet } from '../simSets';
import { toEvalSummary } from './eval';
import {
  HELD_OUT_EVAL_SEED,
  LEARNING_CHECK_SIZES,
  type LearningCheckCriterion,
  type LearningCheckSize,
  type PolicyFigures,
  SIGNIFICANT_T,
  clusteredT,
  sessionConfigs,
} from './learningCheck';
import { runTrain } from './train';

/** Which question a held-out set answers. */
export type RobustnessSetKind = 'unseen-seeds' | 'unseen-knobs' | 'edge-0';

/** A held-out set: the `informed` preset on the held-out seeds, with these knobs changed. */
export interface RobustnessSetSpec {
  readonly name: string;
  readonly kind: RobustnessSetKind;
  readonly overrides: Pick<SimConfigOverrides, 'tickStructure' | 'edge' | 'fractionalSizes'>;
}

/**
 * The held-out sets: (a) unseen seeds of the training preset; (b) knob values plain training never sees
 * (another tick grid, a weaker edge, fractional sizes); the edge-0 control, where nothing observable
 * predicts the mid and a policy must earn nothing.
 */
export const ROBUSTNESS_SETS: readonly RobustnessSetSpec[] = [
  { name: 'informed, unseen seeds', kind: 'unseen-seeds', overrides: {} },
  { name: 'tick linear_cent', kind: 'unseen-knobs', overrides: { tickStructure: 'linear_cent' } },
  { name: 'tick tapered_deci_cent', kind: 'unseen-knobs', overrides: { tickStructure: 'tapered_deci_cent' } },
  { name: 'edge 0.5', kind: 'unseen-knobs', overrides: { edge: 0.5 } },
  { name: 'edge 0.3', kind: 'unseen-knobs', overrides: { edge: 0.3 } },
  { name: 'fractional sizes', kind: 'unseen-knobs', overrides: { fractionalSizes: true } },
  { name: 'edge 0 (control)', kind: 'edge-0', overrides: { edge: 0 } },
];

/**
 * First held-out seed of the report's sets. The learning check's held-out seeds (101…) chose the `informed`
 * preset's parameters and `KALSHI_PPO`, so they are validation seeds; these were never looked at while tuning.
 */
export const ROBUSTNESS_SEED_BASE = 201;

/**
 * The learning check's size with the held-out seeds moved to {@link ROBUSTNESS_SEED_BASE}: as many as before, or
 * `heldOut` sessions per set with the episodes scaled to match (400 per 12 sessions at full size). One set of 12
 * sessions moves a Sharpe by about ±0.1; 48 or 96 pin it down.
 *
 * @example
 * robustnessSize(LEARNING_CHECK_SIZES.full, 48); // seeds 201–248, 1,600 episodes per set
 */
export function robustnessSize(size: LearningCheckSize, heldOut = size.heldOutSeeds.length): LearningCheckSize {
  return {
    ...size,
    heldOutSeeds: Array.from({ length: heldOut }, (_, i) => ROBUSTNESS_SEED_BASE + i),
    episodes: Math.round((size.episodes * heldOut) / size.heldOutSeeds.length),
  };
}

/** Held-out Sharpe PPO must exceed on unseen seeds, and on unseen knobs wherever the oracle reaches {@link ORACLE_STRONG_SHARPE}. */
export const ROBUST_MIN_SHARPE = 1;
export const ORACLE_STRONG_SHARPE = 2;
/** Elsewhere on unseen knobs: this share of the oracle's Sharpe. */
export const ORACLE_SHARE = 0.5;
/** Held-out / in-sample mean PnL must exceed this. */
export const MIN_PNL_RATIO = 0.7;

/** One PPO model on one set: its figures, held-out / in-sample mean PnL, its share of the oracle's, and paired t against each baseline. */
export interface PpoOnSet {
  readonly seed: number;
  readonly figures: PolicyFigures;
  /** Mean PnL on this set / on the training sessions (0 when the latter is not positive). */
  readonly pnlRatio: number;
  /** Mean PnL / the oracle's on the same episodes (0 when the oracle's is not positive): how much of the available edge it takes. */
  readonly oracleShare: number;
  readonly pairedT: Readonly<Record<'random' | 'hold' | 'heuristic', number>>;
}

export interface RobustnessSetReport {
  readonly name: string;
  readonly kind: RobustnessSetKind | 'in-sample';
  readonly oracle: PolicyFigures;
  readonly random: PolicyFigures;
  readonly hold: PolicyFigures;
  readonly heuristic: PolicyFigures;
  readonly ppo: readonly PpoOnSet[];
}

export interface RobustnessReport {
  readonly size: LearningCheckSize;
  readonly randomize?: DomainRandomization;
  readonly ppoSeeds: readonly number[];
  readonly evalSeed: number;
  /** The training sessions themselves first (`in-sample`), then {@link ROBUSTNESS_SETS}. */
  readonly sets: readonly RobustnessSetReport[];
  readonly criteria: readonly (LearningCheckCriterion & { readonly seed: number })[];
  readonly pass: boolean;
  readonly seconds: number;
}

export interface RobustnessOptions {
  /** Sessions, steps and episodes; see {@link robustnessSize} for the held-out seeds to use. */
  readonly size: LearningCheckSize;
  readonly ppoSeeds: readonly number[];
  /** Train on domain-randomized sessions (held-out sets are never randomized). */
  readonly randomize?: DomainRandomization;
  /** A `kflow train --config` file overriding parts of `KALSHI_PPO` (e.g. `{ "ppo": { "entCoef": 0.03 } }`). */
  readonly config?: string;
  readonly evalSeed?: number;
  readonly log?: (line: string) => void;
}

interface Run {
  readonly figures: PolicyFigures;
  readonly pnls: readonly number[];
  readonly tickers: readonly string[];
}

function run(name: string, r: KalshiEvaluation): Run {
  return { figures: { ...toEvalSummary(name, r), tStat: clusteredT(r.pnls, r.tickers) }, pnls: r.pnls, tickers: r.tickers };
}

/** Paired, market-clustered t of `a − b` over the same episodes. */
function pairedT(a: Run, b: Run): number {
  if (a.tickers.some((t, i) => t !== b.tickers[i])) throw new Error('evaluation episodes differ between policies');
  return clusteredT(a.pnls.map((p, i) => p - b.pnls[i]!), a.tickers);
}

/**
 * The robustness report of the recommended setup: PPO (`KALSHI_PPO`, trained as `kflow train --data`
 * trains) for each seed, evaluated as `kflow eval` evaluates on the training sessions (in-sample) and on
 * every set of {@link ROBUSTNESS_SETS}, beside the oracle (it reads the latent) and the random, hold and
 * heuristic baselines on the same episodes, with market-clustered t statistics and the targets checked.
 *
 * @example
 * const report = await runRobustness({ size: robustnessSize(LEARNING_CHECK_SIZES.full), ppoSeeds: [0, 1, 2] });
 */
export async function runRobustness(options: RobustnessOptions): Promise<RobustnessReport> {
  const { size, ppoSeeds } = options;
  const evalSeed = options.evalSeed ?? HELD_OUT_EVAL_SEED;
  const log = options.log ?? (() => {});
  const started = performance.now();
  const dir = mkdtempSync(join(tmpdir(), 'kflow-robustness-'));
  try {
    log(`simulating ${size.trainSeeds.length} training sessions${options.randomize === undefined ? '' : ' (domain-randomized)'}`);
    const training = simulateSet(sessionConfigs(size.trainSeeds, size, options.randomize === undefined ? {} : { randomize: options.randomize }), dir);
    const sets: { spec: { name: string; kind: RobustnessSetReport['kind'] }; set: SimSet }[] = [{ spec: { name: 'training sessions', kind: 'in-sample' }, set: training }];
    for (const spec of ROBUSTNESS_SETS) {
      log(`simulating ${size.heldOutSeeds.length} held-out sessions: ${spec.name}`);
      const configs = sessionConfigs(size.heldOutSeeds, size).map((c) => ({ ...c, ...spec.overrides }));
      sets.push({ spec, set: simulateSet(configs) });
    }
    const meta = kalshiEnvMetadata(KALSHI_PPO.env);
    const baselines: Record<'random' | 'hold' | 'heuristic', () => Policy> = {
      random: () => createRandomPolicy({ ...meta, rng: createRng(evalSeed) }),
      hold: () => createHoldPolicy(meta),
      heuristic: () => createKalshiHeuristicPolicy(meta),
    };
    const base = sets.map(({ set }) => ({
      oracle: run('oracle', evaluateOracleOnSet(set, size.episodes, evalSeed)),
      random: run('random', evaluateOnSet(baselines.random(), set, size.episodes, evalSeed)),
      hold: run('hold', evaluateOnSet(baselines.hold(), set, size.episodes, evalSeed)),
      heuristic: run('heuristic', evaluateOnSet(baselines.heuristic(), set, size.episodes, evalSeed)),
    }));
    const ppoRuns: Run[][] = sets.map(() => []);
    for (const seed of ppoSeeds) {
      const model = join(dir, `ppo-seed${seed}`);
      log(`PPO seed ${seed}: kflow train --data (${size.timesteps} steps)`);
      await runTrain([], {
        data: [...training.files],
        env: 'CartPole-v1',
        algo: 'ppo',
        seed: String(seed),
        ppoPreset: 'default',
        timesteps: String(size.timesteps),
        out: model,
        quiet: true,
        ...(options.config === undefined ? {} : { config: options.config }),
      });
      const checkpoint = await readCheckpoint(model);
      // Every policy of a set runs in one env setup (the paired tests need the same episodes): `--config` may change
      // how PPO learns, not how it trades.
      const trained = checkpoint.manifest.trading === undefined ? undefined : parseTradingSetup(checkpoint.manifest.trading);
      const difference = trained === undefined ? 'no trading setup recorded' : tradingSetupDifference(trained, meta.setup);
      if (difference !== undefined) throw new Error(`--config changed the trading setup (${difference}): the report compares policies in the KALSHI_PPO env`);
      const policy = loadPolicy(checkpoint, {
        featureSetVersion: meta.featureSetVersion,
        observationSize: meta.observationSize,
        action: { kind: 'discrete', n: meta.actionCount },
      });
      sets.forEach(({ set }, i) => ppoRuns[i]!.push(run(`ppo seed ${seed}`, evaluateOnSet(policy, set, size.episodes, evalSeed))));
    }

    const reports: RobustnessSetReport[] = sets.map(({ spec }, i) => {
      const b = base[i]!;
      return {
        name: spec.name,
        kind: spec.kind,
        oracle: b.oracle.figures,
        random: b.random.figures,
        hold: b.hold.figures,
        heuristic: b.heuristic.figures,
        ppo: ppoRuns[i]!.map((r, k) => ({
          seed: ppoSeeds[k]!,
          figures: r.figures,
          pnlRatio: ppoRuns[0]![k]!.figures.meanPnl > 0 ? r.figures.meanPnl / ppoRuns[0]![k]!.figures.meanPnl : 0,
          oracleShare: b.oracle.figures.meanPnl > 0 ? r.figures.meanPnl / b.oracle.figures.meanPnl : 0,
          pairedT: { random: pairedT(r, b.random), hold: pairedT(r, b.hold), heuristic: pairedT(r, b.heuristic) },
        })),
      };
    });
    const criteria = robustnessCriteria(reports);
    return {
      size,
      ...(options.randomize === undefined ? {} : { randomize: options.randomize }),
      ppoSeeds,
      evalSeed,
      sets: reports,
      criteria,
      pass: criteria.every((c) => c.pass),
      seconds: Math.round(performance.now() - started) / 1000,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The targets, per PPO seed and held-out set. */
function robustnessCriteria(sets: readonly RobustnessSetReport[]): (LearningCheckCriterion & { seed: number })[] {
  const out: (LearningCheckCriterion & { seed: number })[] = [];
  for (const set of sets) {
    if (set.kind === 'in-sample') continue;
    for (const p of set.ppo) {
      const f = p.figures;
      const add = (name: string, pass: boolean, detail: string) => out.push({ seed: p.seed, name: `${set.name}: ${name}`, pass, detail });
      if (set.kind === 'edge-0') {
        add('no significant profit', f.tStat < SIGNIFICANT_T, `mean $${f.meanPnl.toFixed(4)}, t = ${f.tStat.toFixed(2)}, ${f.meanTrades.toFixed(1)} fills/episode`);
        continue;
      }
      const oracle = set.oracle.sharpe;
      const target = set.kind === 'unseen-seeds' || oracle >= ORACLE_STRONG_SHARPE ? ROBUST_MIN_SHARPE : ORACLE_SHARE * oracle;
      add(`Sharpe > ${target.toFixed(3)}`, f.sharpe > target, `Sharpe ${f.sharpe.toFixed(3)} (oracle ${oracle.toFixed(3)})`);
      add(`held-out / in-sample mean PnL > ${MIN_PNL_RATIO}`, p.pnlRatio > MIN_PNL_RATIO, `${(100 * p.pnlRatio).toFixed(0)} %`);
      const worst = Math.min(p.pairedT.random, p.pairedT.hold, p.pairedT.heuristic);
      add(
        'beats random, hold and heuristic (paired t > 2)',
        f.meanPnl > Math.max(set.random.meanPnl, set.hold.meanPnl, set.heuristic.meanPnl) && worst > SIGNIFICANT_T,
        `paired t ${p.pairedT.random.toFixed(2)} / ${p.pairedT.hold.toFixed(2)} / ${p.pairedT.heuristic.toFixed(2)}`,
      );
    }
  }
  return out;
}

interface RobustnessCliOptions {
  seeds: string;
  ci?: boolean;
  randomize?: boolean;
  config?: string;
  heldOut?: string;
  json?: boolean;
}

/** `--seeds 0,1,2` → [0, 1, 2]. */
function parseSeeds(value: string): number[] {
  const seeds = String(value)
    .split(',')
    .map((s) => s.trim());
  if (seeds.length === 0 || seeds.some((s) => !/^\d+$/.test(s))) throw new Error(`--seeds must be whole numbers separated by commas, got "${value}"`);
  return seeds.map(Number);
}

export function registerRobustness(cli: CAC): void {
  cli
    .command('robustness', 'Held-out Sharpe and PnL of the recommended PPO setup on unseen seeds and unseen market knobs, beside the oracle and baselines')
    .option('--seeds <list>', 'PPO seeds', { default: '0,1,2' })
    .option('--ci', 'CI size (4 training and 4 held-out sessions, 150k steps, 100 episodes) instead of the full size (12 and 12, 300k, 400)')
    .option('--randomize', 'Train on domain-randomized sessions (tick grid, edge, fractional sizes, markets, length drawn per session)')
    .option('--config <file>', 'JSON overriding parts of the training setup, as for kflow train --config')
    .option('--held-out <n>', 'Held-out sessions per set (seeds 201…), the episodes scaled to match (default: 12; 4 with --ci)')
    .option('--json', 'Print one JSON object')
    .action(async (o: RobustnessCliOptions) => {
      const base = o.ci ? LEARNING_CHECK_SIZES.ci : LEARNING_CHECK_SIZES.full;
      const report = await runRobustness({
        size: robustnessSize(base, o.heldOut === undefined ? undefined : wholeNumber(o.heldOut, 'held-out', 1)),
        ...(o.config === undefined ? {} : { config: o.config }),
        ppoSeeds: parseSeeds(o.seeds),
        ...(o.randomize ? { randomize: DEFAULT_DOMAIN_RANDOMIZATION } : {}),
        ...(o.json ? {} : { log: (line: string) => void process.stderr.write(`${line}\n`) }),
      });
      if (!report.pass) process.exitCode = 1;
      if (o.json) {
        printJson(report);
        return;
      }
      const row = (name: string, f: PolicyFigures, extra = '') =>
        `  ${name.padEnd(12)} ${f.meanPnl.toFixed(4).padStart(9)} ${f.sharpe.toFixed(3).padStart(7)} ${f.tStat.toFixed(2).padStart(7)} ${f.meanTrades.toFixed(1).padStart(6)}${extra}`;
      console.log(`${'set / policy'.padEnd(14)} ${'mean $'.padStart(9)} ${'Sharpe'.padStart(7)} ${'t'.padStart(7)} ${'fills'.padStart(6)}  ratio, of oracle, paired t vs random/hold/heuristic`);
      for (const s of report.sets) {
        console.log(`${s.name} (${s.kind})`);
        for (const p of s.ppo) {
          const t = p.pairedT;
          console.log(row(`ppo ${p.seed}`, p.figures, `  ${(100 * p.pnlRatio).toFixed(0)} %, ${(100 * p.oracleShare).toFixed(0)} %, ${t.random.toFixed(1)}/${t.hold.toFixed(1)}/${t.heuristic.toFixed(1)}`));
        }
        for (const name of ['oracle', 'random', 'hold', 'heuristic'] as const) console.log(row(name, s[name]));
      }
      for (const c of report.criteria) console.log(`${c.pass ? 'PASS' : 'FAIL'}  seed ${c.seed}, ${c.name}: ${c.detail}`);
      console.log(`${report.pass ? 'robustness targets met' : 'robustness targets NOT met'} in ${report.seconds.toFixed(1)} s`);
    });
}
