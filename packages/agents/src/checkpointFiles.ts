import { agentsError } from './errors';
import type { Checkpoint, CheckpointManifest } from './checkpoint';

/**
 * Writes `manifest.json` and the weights file into `dir` (created if needed). Node only: `node:fs` is
 * imported lazily, so the package entry stays loadable in browsers.
 *
 * @example
 * await writeCheckpoint('runs/cartpole-ppo', createCheckpoint(result, { envId: 'CartPole-v1' }));
 */
export async function writeCheckpoint(dir: string, checkpoint: Checkpoint): Promise<void> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  await fs.mkdir(dir, { recursive: true });
  for (const file of checkpointFiles(checkpoint)) await fs.writeFile(path.join(dir, file.name), file.bytes);
}

/**
 * The files of a checkpoint directory, the manifest last (a reader that finds it finds the files it names):
 * for writers of their own, e.g. synchronous ones inside a training loop.
 */
export function checkpointFiles(checkpoint: Checkpoint): { readonly name: string; readonly bytes: Uint8Array }[] {
  const { manifest } = checkpoint;
  return [
    { name: manifest.weightsFile, bytes: checkpoint.weights },
    ...(checkpoint.optimizer === undefined || manifest.optimizer === undefined ? [] : [{ name: manifest.optimizer.file, bytes: checkpoint.optimizer }]),
    { name: 'manifest.json', bytes: new TextEncoder().encode(`${JSON.stringify(manifest, null, 2)}\n`) },
  ];
}

/**
 * Reads a checkpoint directory written by `writeCheckpoint` (validation happens in `loadPolicy`).
 *
 * @example
 * const policy = loadPolicy(await readCheckpoint('runs/cartpole-ppo'), { observationSize: 4 });
 */
export async function readCheckpoint(dir: string): Promise<Checkpoint> {
  const fs = await import('node:fs/promises');
  const path = await import('node:path');
  let manifest: CheckpointManifest;
  try {
    manifest = JSON.parse(await fs.readFile(path.join(dir, 'manifest.json'), 'utf8')) as CheckpointManifest;
  } catch (cause) {
    throw agentsError('CHECKPOINT_INVALID', `cannot read ${path.join(dir, 'manifest.json')}: ${String(cause)}`);
  }
  const weightsFile = typeof manifest.weightsFile === 'string' ? path.basename(manifest.weightsFile) : 'weights.bin';
  const weights = new Uint8Array(await fs.readFile(path.join(dir, weightsFile)));
  const optimizerFile = typeof manifest.optimizer?.file === 'string' ? path.basename(manifest.optimizer.file) : undefined;
  if (optimizerFile === undefined) return { manifest, weights };
  try {
    return { manifest, weights, optimizer: new Uint8Array(await fs.readFile(path.join(dir, optimizerFile))) };
  } catch (error) {
    // Inference needs only the weights; `resumeState` says what is missing when a run is resumed from it.
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { manifest, weights };
    throw error;
  }
}
