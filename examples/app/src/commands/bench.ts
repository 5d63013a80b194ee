import type { CAC } from 'cac';
import { allBenchmarks } from '../bench/index';
import { runBenchmarks, toFigures } from '../bench/harness';
import { printJson } from '../output';

export function registerBench(cli: CAC): void {
  cli
    .command('bench', 'Run the registered benchmarks (warm-up, several runs, median)')
    .option('--only <prefix>', 'Run only benchmarks whose name starts with this prefix (comma-separated list allowed)')
    .option('--list', 'List benchmark names and targets')
    .option('--json', 'Print one JSON object of named figures')
    .action(async (options: { only?: string; list?: boolean; json?: boolean }) => {
      const prefixes = options.only?.split(',').filter(Boolean) ?? [];
      const selected = allBenchmarks.filter((b) => prefixes.length === 0 || prefixes.some((p) => b.name.startsWith(p)));
      if (options.list) {
        for (const b of selected) {
          const target = b.target === undefined ? '' : ` (target ${b.better === 'lower' ? '≤' : '≥'} ${b.target})`;
          console.log(`${b.name}${target}: ${b.description}`);
        }
        return;
      }
      const { results, skipped } = await runBenchmarks(selected, (r) => {
        if (!options.json) {
          const verdict = r.met === undefined ? '' : r.met ? '  [target met]' : '  [TARGET MISSED]';
          const target = r.target === undefined ? '' : ` (target ${r.target})`;
          console.log(`${r.name.padEnd(40)} ${r.median.toPrecision(4)}${target}${verdict}`);
        }
      });
      const figures = toFigures(selected, results);
      if (options.json) {
        printJson(Object.keys(skipped).length ? { ...figures, skipped } : figures);
      } else {
        for (const [name, ratio] of Object.entries(figures)) if (name.includes('.vs.')) console.log(`${name.padEnd(40)} ${ratio}`);
        for (const [name, why] of Object.entries(skipped)) console.log(`${name.padEnd(40)} skipped: ${why}`);
      }
    });
}
