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
  await fs.writeFile(path.join(dir, checkpoint.manifest.weightsFile), checkpoint.weights);
  await fs.writeFile(path.join(dir, 'manifest.json'), `${JSON.stringify(checkpoint.manifest, null, 2)}\n`);
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
  return { manifest, weights };
}
