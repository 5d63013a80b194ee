// What `kflow train` writes while it trains: metric logs and the checkpoint a run resumes from. Training is
// synchronous, so these write synchronously, between updates.
import { appendFileSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { type Checkpoint, TRAINING_METRIC_NAMES, type TrainingEvent, checkpointFiles } from '@kflow/agents';

/** Appends training events to a CSV or JSONL file. */
export interface MetricsLog {
  write(event: TrainingEvent): void;
  /** Writes what is buffered (episodes since the last update). */
  flush(): void;
}

const CSV_COLUMNS = ['global_step', 'episodes', 'kind', ...TRAINING_METRIC_NAMES] as const;

/**
 * A metrics log at `path`: `.csv` (CleanRL's metric names as columns, one row per episode and per update)
 * or `.jsonl` (one object per event). An existing file is appended to, so a resumed run continues its log.
 *
 * @example
 * const log = createMetricsLog('runs/ppo-1/metrics.csv');
 * trainPpo({ ..., onEvent: (e) => log.write(e) });
 * log.flush();
 */
export function createMetricsLog(path: string): MetricsLog {
  const ext = extname(path).toLowerCase();
  if (ext !== '.csv' && ext !== '.jsonl') throw new Error(`--metrics ${path}: the file must end in .csv or .jsonl (the format it is written in)`);
  const csv = ext === '.csv';
  const exists = statSync(path, { throwIfNoEntry: false })?.isFile() === true;
  if (csv && !exists) writeFileSync(path, `${CSV_COLUMNS.join(',')}\n`);
  let pending = '';
  const line = (event: TrainingEvent): string => {
    if (!csv) return `${JSON.stringify({ kind: event.kind, global_step: event.timesteps, episodes: event.episodes, ...event.metrics })}\n`;
    const m: Readonly<Record<string, number | undefined>> = event.metrics;
    const cells = TRAINING_METRIC_NAMES.map((name) => (m[name] === undefined || !Number.isFinite(m[name]) ? '' : String(m[name])));
    return `${[event.timesteps, event.episodes, event.kind, ...cells].join(',')}\n`;
  };
  const flush = () => {
    if (pending === '') return;
    appendFileSync(path, pending);
    pending = '';
  };
  return {
    write(event) {
      pending += line(event);
      if (event.kind === 'update') flush();
    },
    flush,
  };
}

/**
 * Writes `checkpoint` into `dir` so that a crash at any moment leaves a whole checkpoint behind: the weights
 * and optimizer state go to files named after the update, the manifest naming them replaces the old one
 * atomically (rename), and only then are the previous files removed.
 */
export function writeRunningCheckpoint(dir: string, checkpoint: Checkpoint): void {
  const { manifest } = checkpoint;
  const tag = String(manifest.training.updates).padStart(6, '0');
  const named: Checkpoint = {
    ...checkpoint,
    manifest: {
      ...manifest,
      weightsFile: `weights-${tag}.bin`,
      ...(manifest.optimizer === undefined ? {} : { optimizer: { ...manifest.optimizer, file: `optimizer-${tag}.bin` } }),
    },
  };
  mkdirSync(dir, { recursive: true });
  for (const file of checkpointFiles(named)) {
    const target = join(dir, file.name);
    writeFileSync(`${target}.tmp`, file.bytes);
    renameSync(`${target}.tmp`, target);
  }
  removeStaleFiles(dir, named);
}

/** Removes the numbered weight and optimizer files `checkpoint`'s manifest no longer names, and writes a kill cut short. */
export function removeStaleFiles(dir: string, checkpoint: Checkpoint): void {
  const keep = new Set([checkpoint.manifest.weightsFile, checkpoint.manifest.optimizer?.file]);
  for (const name of readdirSync(dir)) {
    const stale = /^(weights|optimizer)-\d+\.bin$/.test(name) && !keep.has(name);
    if (stale || name.endsWith('.tmp')) rmSync(join(dir, name), { force: true });
  }
}
