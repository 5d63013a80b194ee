import type { CAC } from 'cac';
import { type IngestDatabase, type ModelDeployment, type ModelRecord, createModelRegistry } from '@kflow/ingest';
import { userPath } from '../flags';
import { formatTable, printJson } from '../output';
import { loadTradingModel } from '../paperTrading';
import { openStorage, type StorageOptions } from './collect';

/**
 * Registers a checkpoint directory under `name` (status ready), after checking that it loads and carries
 * a trading setup; optionally deploys it.
 */
export async function registerCheckpoint(
  db: IngestDatabase,
  dir: string,
  name: string,
  options: { readonly deploy?: boolean; readonly performance?: Readonly<Record<string, unknown>>; readonly idempotencyKey?: string } = {},
): Promise<{ model: ModelRecord; deployment: ModelDeployment | undefined }> {
  const path = userPath(dir);
  const { policy, setup } = await loadTradingModel(path);
  const m = policy.manifest;
  const registry = createModelRegistry({ db });
  const model = await registry.register({
    name,
    architecture: `mlp ${m.network.hiddenSizes.join('x')} ${m.network.activation}${m.network.shared ? ' shared' : ''}`,
    checkpointPath: path,
    featureSetVersion: setup.featureSetVersion,
    hyperparameters: m.hyperparameters,
    trainingConfig: { algorithm: m.algorithm, seed: m.seed, ...m.training, trading: m.trading },
    status: 'ready',
    ...(options.performance === undefined ? {} : { performance: options.performance }),
    ...(options.idempotencyKey === undefined ? {} : { idempotencyKey: options.idempotencyKey }),
  });
  const deployment = options.deploy ? await registry.deploy(name, model.version) : undefined;
  return { model: deployment?.model ?? model, deployment };
}

interface ModelsOptions extends StorageOptions {
  name?: string;
  deploy?: boolean;
  json?: boolean;
}

const USAGE = 'usage: kflow models list [NAME] | register DIR --name NAME [--deploy] | deploy NAME VERSION | rollback NAME';

async function models(action: string, args: readonly string[], o: ModelsOptions): Promise<void> {
  const { db } = await openStorage(o);
  try {
    const registry = createModelRegistry({ db });
    const say = (json: unknown, text: string) => (o.json ? printJson(json) : console.log(text));
    switch (action) {
      case 'list': {
        const list = await registry.list(args[0]);
        if (o.json) return printJson({ models: list });
        if (list.length === 0) return console.log('no models registered yet (kflow train --register NAME, or kflow models register DIR --name NAME)');
        console.log(
          formatTable(
            ['id', 'name', 'version', 'status', 'feature set', 'created', 'checkpoint'],
            list.map((m) => [String(m.id), m.name, String(m.version), m.status, m.featureSetVersion, new Date(m.createdMs).toISOString().replace('.000', ''), m.checkpointPath]),
          ),
        );
        return;
      }
      case 'register': {
        const dir = args[0];
        if (dir === undefined || o.name === undefined) throw new Error(`register needs a checkpoint directory and --name NAME (${USAGE})`);
        const { model, deployment } = await registerCheckpoint(db, dir, String(o.name), { deploy: o.deploy === true });
        return say({ model, deployment: deployment ?? null }, `registered ${model.name} v${model.version} (id ${model.id}, ${model.status})`);
      }
      case 'deploy': {
        const [name, version] = args;
        if (name === undefined || version === undefined || !Number.isSafeInteger(Number(version))) throw new Error(`deploy needs NAME VERSION (${USAGE})`);
        const d = await registry.deploy(name, Number(version));
        return say({ deployment: d }, `deployed ${d.model.name} v${d.model.version} (id ${d.model.id}); running actors reload it at their next decision`);
      }
      case 'rollback': {
        const name = args[0];
        if (name === undefined) throw new Error(`rollback needs NAME (${USAGE})`);
        const d = await registry.rollback(name);
        return say({ deployment: d }, `rolled ${name} back to v${d.model.version} (id ${d.model.id})`);
      }
      default:
        throw new Error(`unknown action "${action}" (${USAGE})`);
    }
  } finally {
    await db.close();
  }
}

export function registerModels(cli: CAC): void {
  cli
    .command('models <action> [...args]', 'The model registry: list [NAME] | register DIR --name NAME [--deploy] | deploy NAME VERSION | rollback NAME')
    .option('--name <name>', 'register: the model name')
    .option('--deploy', 'register: also deploy it')
    .option('--db <url>', 'PostgreSQL connection string (default: PGlite in --data-dir)')
    .option('--data-dir <dir>', 'PGlite data directory (default kflow-data)')
    .option('--json', 'Print one JSON object')
    .action((action: string, args: string[], o: ModelsOptions) => models(action, args, o));
}
