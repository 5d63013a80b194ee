import type { CAC } from 'cac';
import { allBenchmarks } from '../bench/index';
import { runBenchmarks, toFigures } from '../bench/harness';
import { printJson } from '../output';

export function registerBench(cli: CAC): void {
  cli
    .command('bench', 'Run the registered benchmarks (warm-up, several runs, median)')
    .option('--only <prefix>', 'Run only benchmarks whose name starts with this prefix (comma-separated list allowed)')
    .option('--list', 'List benchmark names and targets')
    .option('--json', 'Print one JSON object of named figures (with --list: of names, descriptions and targets)')
    .action(async (options: { only?: string; list?: boolean; json?: boolean }) => {
      const prefixes = options.only?.split(',').filter(Boolean) ?? [];
      const selected = allBenchmarks.filter((b) => prefixes.length === 0 || prefixes.some((p) => b.name.startsWith(p)));
      if (options.list && options.json) {
        printJson(
          Object.fromEntries(
            selected.map((b) => [
              b.name,
              { description: b.description, better: b.better, target: b.target ?? null, ...(b.baseline === undefined ? {} : { baseline: b.baseline, baselineTarget: b.baselineTarget ?? null }) },
            ]),
          ),
        );
        return;
      }
      if (options.list) {
        for (const b of selected) {
          const op = b.better === 'lower' ? '≤' : '≥';
          const target = b.target === undefined ? '' : ` (target ${op} ${b.target})`;
          const ratio = b.baselineTarget === undefined ? '' : ` (target ${op} ${b.baselineTarget} × ${b.baseline})`;
          console.log(`${b.name}${target}${ratio}: ${b.description}`);
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
        for (const b of selected) {
          const name = `${b.name}.vs.${b.baseline}`;
          const ratio = figures[name];
          if (ratio === undefined) continue;
          const goal = b.baselineTarget;
          const met = goal === undefined ? undefined : b.better === 'lower' ? ratio <= goal : ratio >= goal;
          const verdict = met === undefined ? '' : ` (target ${goal})${met ? '  [target met]' : '  [TARGET MISSED]'}`;
          console.log(`${name.padEnd(40)} ${ratio}${verdict}`);
        }
        for (const [name, why] of Object.entries(skipped)) console.log(`${name.padEnd(40)} skipped: ${why}`);
      }
    });
}
