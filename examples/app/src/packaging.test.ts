/**
 * The packages as a user gets them from npm: every `@kflow/*` package and the `kflow` CLI is built (when
 * its `dist` is older than its sources), packed with `pnpm pack`, linted with publint and
 * arethetypeswrong, installed with npm into a fresh project, type-checked by a consumer under the
 * strictest compiler settings, imported from ESM and `require()`d from CommonJS, and the installed `kflow`
 * bin runs `--help`, `sim` and a small `demo`.
 *
 * Why each check: the workspace resolves `@kflow/*` to TypeScript sources through the `@kflow/source`
 * export condition, so no other test would notice a published manifest that points at missing files, a
 * declaration file that does not compile for a consumer, a runtime dependency declared as a devDependency,
 * or a CLI that only works from the repository.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { publint } from 'publint';
import { formatMessage } from 'publint/utils';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureDashboard } from './server/dashboard';

const ROOT = resolve(import.meta.dirname, '../../..');
const APP = resolve(import.meta.dirname, '..');
const LIBRARIES = ['orderbook', 'features', 'paper', 'env', 'agents', 'ingest', 'sim', 'actor'] as const;
const exec = promisify(execFile);

/**
 * The environment for npm and the installed CLI: without the `npm_*`/`pnpm_*` variables a `pnpm test`
 * run exports (e.g. `npm_config_local_prefix` pointing at this repository), keeping only where the
 * registry, cache and certificates are, so the temporary project behaves like a user's.
 */
function userEnv(): NodeJS.ProcessEnv {
  const keep = /^npm_config_(registry|cache|cafile|userconfig|proxy|https_proxy|http_proxy|noproxy|strict_ssl)$/i;
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm|pnpm)_/i.test(key) && !keep.test(key)) continue;
    if (key === 'NODE_OPTIONS' || key === 'VITEST' || key.startsWith('VITEST_')) continue;
    env[key] = value;
  }
  return env;
}

async function run(command: string, args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = userEnv()): Promise<string> {
  try {
    const { stdout } = await exec(command, args, { cwd, env, maxBuffer: 64 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const e = error as { stdout?: string; stderr?: string; message: string };
    throw new Error(`${command} ${args.join(' ')} failed in ${cwd}: ${e.message}\n${e.stdout ?? ''}\n${e.stderr ?? ''}`);
  }
}

/** pnpm as installed (`pnpm`), else through npx (how the README runs it). */
async function pnpm(args: readonly string[], cwd: string): Promise<string> {
  try {
    await exec('pnpm', ['--version'], { cwd });
  } catch {
    return run('npx', ['-y', 'pnpm@10', ...args], cwd, process.env);
  }
  return run('pnpm', args, cwd, process.env);
}

/** Newest modification time of the files under `path` (ignoring `node_modules`, `dist` and tests, which are not built). */
async function newest(path: string): Promise<number> {
  const info = await stat(path);
  if (!info.isDirectory()) return info.mtimeMs;
  let t = 0;
  for (const entry of await readdir(path, { withFileTypes: true })) {
    if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.endsWith('.test.ts')) continue;
    t = Math.max(t, await newest(join(path, entry.name)));
  }
  return t;
}

/** The built files a workspace manifest points at: `exports` (except the `@kflow/source` condition), `main`, `types`, `bin`. */
function builtFiles(manifest: Record<string, unknown>): string[] {
  const files = new Set<string>();
  const walk = (value: unknown, key: string): void => {
    if (key === '@kflow/source') return;
    if (typeof value === 'string') {
      if (value.startsWith('./dist/')) files.add(value);
    } else if (value !== null && typeof value === 'object') for (const [k, v] of Object.entries(value)) walk(v, k);
  };
  for (const field of ['exports', 'main', 'types', 'bin']) walk(manifest[field], field);
  return [...files];
}

/**
 * Whether a package needs a build: one of its built files is missing or older than its sources, manifest
 * or build config (so a build that failed half way, e.g. JavaScript written but no declarations, is redone).
 */
async function stale(dir: string, extraOutputs: readonly string[] = []): Promise<boolean> {
  const manifest = JSON.parse(await readFile(join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
  let sources = Math.max(await newest(join(dir, 'src')), await newest(join(dir, 'package.json')));
  sources = Math.max(sources, await newest(join(dir, 'tsup.config.ts')).catch(() => 0));
  for (const file of [...builtFiles(manifest), ...extraOutputs]) {
    const built = await stat(join(dir, file)).catch(() => undefined);
    if (built === undefined || built.mtimeMs < sources) return true;
  }
  return false;
}

/** The files in a tarball and its `package.json`. */
async function tarball(path: string): Promise<{ files: string[]; manifest: Record<string, unknown>; license: string }> {
  const files = (await run('tar', ['-tzf', path], ROOT)).trim().split('\n').map((f) => f.replace(/^package\//, ''));
  const manifest = JSON.parse(await run('tar', ['-xzOf', path, 'package/package.json'], ROOT)) as Record<string, unknown>;
  const license = files.includes('LICENSE') ? await run('tar', ['-xzOf', path, 'package/LICENSE'], ROOT) : '';
  return { files, manifest, license };
}

/** Every file path a manifest's `exports`, `main`, `types` and `bin` point at. */
function entryTargets(manifest: Record<string, unknown>): string[] {
  const targets: string[] = [];
  const walk = (value: unknown): void => {
    if (typeof value === 'string') targets.push(value.replace(/^\.\//, ''));
    else if (value !== null && typeof value === 'object') for (const v of Object.values(value)) walk(v);
  };
  walk(manifest['exports']);
  walk(manifest['main']);
  walk(manifest['types']);
  walk(manifest['bin']);
  return targets;
}

/** A consumer of the public API of every package, type-checked only (`tsc --noEmit`). */
const CONSUMER_TS = `
import { createActor, createStaticModelSource, type ActorSummary } from '@kflow/actor';
import { createCheckpoint, loadPolicy, trainPpo, type InferencePolicy } from '@kflow/agents';
import { createTfjsPolicy, type TfjsPolicy } from '@kflow/agents/tfjs';
import { SyncVectorEnv, checkEnv, createCartPole, createKalshiEnv, createMarketPool, createSyntheticSession, type StepResult } from '@kflow/env';
import { FEATURE_SPEC, OBSERVATION_SIZE, TemporalState, buildObservation } from '@kflow/features';
import { createModelRegistry, migrate, openPglite, type Queryable } from '@kflow/ingest';
import { type ConnectPostgresOptions, connectPostgres } from '@kflow/ingest/pg';
import { KflowError, createRng, createSharedOrderbookState, formatPrice, isKflowError, parseFrame, systemClock } from '@kflow/orderbook';
import { createPaperClient, createPositionFeatures, type PaperResponse } from '@kflow/paper';
import { generateCapture, resolveSimConfig, type SimConfig } from '@kflow/sim';

export async function main(): Promise<ActorSummary> {
  const state = createSharedOrderbookState();
  const frame = parseFrame('{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"KX-A","market_id":"m1","yes_dollars_fp":[["0.4500","10.00"]],"no_dollars_fp":[["0.5300","5.00"]]}}');
  const { event } = state.applyFrame(frame, 1_000);
  const book = state.book('KX-A');
  if (book === undefined) throw new Error('no book');
  const ask: string = formatPrice(book.bestAsk('yes'));

  const temporal = new TemporalState();
  if (event !== undefined) temporal.observeEvent(event, book);
  const observation = new Float32Array(OBSERVATION_SIZE);
  buildObservation(observation, book, temporal, createPositionFeatures(100), 1_000);
  const version: string = FEATURE_SPEC.version;

  checkEnv(createCartPole());
  const setup = { cadence: { everyMs: 2_000 }, episodeSteps: 300, sizesCenti: [100] } as const;
  const pool = createMarketPool([createSyntheticSession({ seed: 1, markets: 2, eventsPerMarket: 2_000 })]);
  const env = createKalshiEnv({ sessions: pool, ...setup });
  const { observation: first } = env.reset({ seed: 0 });
  const step: StepResult<Float32Array, Record<string, unknown>> = env.step(0);
  const envs = new SyncVectorEnv([() => createKalshiEnv({ sessions: pool, ...setup })]);
  const result = trainPpo({ envs, totalTimesteps: 2_048, seed: 0, nSteps: 256, batchSize: 64 });
  const checkpoint = createCheckpoint(result, { envId: 'kflow/Kalshi' });
  const policy: InferencePolicy = loadPolicy(checkpoint);
  const action: number = policy.act(first);
  const tfjs: Promise<TfjsPolicy> = createTfjsPolicy(checkpoint);

  const client = createPaperClient({ mode: 'paper', state, clock: systemClock, rng: createRng(7), cashMicros: 100_000_000 });
  const order: PaperResponse<unknown> = client.createOrder({ ticker: 'KX-A', side: 'bid', price: '0.4500', count: '1.00', time_in_force: 'good_till_canceled' });

  const db = await openPglite();
  const queryable: Queryable = db;
  await migrate(db);
  const registry = createModelRegistry({ db });
  const connect: (options: ConnectPostgresOptions) => Promise<unknown> = connectPostgres;

  const config: SimConfig = resolveSimConfig('informed', { seed: 7, markets: 2, durationMs: 60_000 });
  const lines: string[] = [];
  generateCapture(config, { onFrame: (line) => lines.push(line) });

  const actor = createActor({
    mode: 'paper',
    state,
    rng: createRng(2),
    models: createStaticModelSource({ id: 'memory', name: 'consumer', version: 1, policy, setup: policy.trading! }),
  });
  await actor.start();
  const summary = await actor.stop();
  try {
    createPaperClient({ mode: 'live', state, clock: systemClock, rng: createRng(1), cashMicros: 0 });
  } catch (error) {
    if (isKflowError(error) && error instanceof KflowError) console.log(error.code);
  }
  console.log(ask, version, step.reward, action, order.ok, registry, connect, queryable, tfjs, lines.length);
  await db.close();
  return summary;
}
`;

const CONSUMER_TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    types: ['node'],
    strict: true,
    noUncheckedIndexedAccess: true,
    exactOptionalPropertyTypes: true,
    noImplicitOverride: true,
    noUnusedLocals: true,
    verbatimModuleSyntax: true,
    skipLibCheck: false,
    noEmit: true,
  },
  files: ['index.ts'],
};

/** Runs for real from ESM: a frame into a book, an observation, a paper order, a simulated capture, an env step, PPO. */
const RUN_MJS = `
import { createRng, createSharedOrderbookState, isKflowError, parseFrame, replay, systemClock } from '@kflow/orderbook';
import { OBSERVATION_SIZE, TemporalState, buildObservation } from '@kflow/features';
import { createPaperClient, createPositionFeatures } from '@kflow/paper';
import { SyncVectorEnv, createCartPole, createKalshiEnv, createSyntheticSession } from '@kflow/env';
import { generateCapture, resolveSimConfig } from '@kflow/sim';
import { createCheckpoint, trainPpo } from '@kflow/agents';
import { createTfjsPolicy } from '@kflow/agents/tfjs';

const state = createSharedOrderbookState();
const frame = parseFrame('{"type":"orderbook_snapshot","sid":1,"seq":1,"msg":{"market_ticker":"KX-A","market_id":"m1","yes_dollars_fp":[["0.4500","10.00"]],"no_dollars_fp":[["0.5300","5.00"]]}}');
const { event } = state.applyFrame(frame, 1_000);
const book = state.book('KX-A');
const temporal = new TemporalState();
temporal.observeEvent(event, book);
const observation = new Float32Array(OBSERVATION_SIZE);
buildObservation(observation, book, temporal, createPositionFeatures(100), 1_000);

const client = createPaperClient({ mode: 'paper', state, clock: systemClock, rng: createRng(7), cashMicros: 100_000_000 });
const order = client.createOrder({ ticker: 'KX-A', side: 'bid', price: '0.4700', count: '1.00', time_in_force: 'immediate_or_cancel' });

const lines = [];
generateCapture(resolveSimConfig('informed', { seed: 3, markets: 2, durationMs: 60_000 }), { onFrame: (line) => lines.push(line) });
const { counters } = replay(lines);

const env = createKalshiEnv({ sessions: [createSyntheticSession({ seed: 1, markets: 1, eventsPerMarket: 2_000 })], cadence: 'event', episodeSteps: 64 });
env.reset({ seed: 0 });
const step = env.step(0);

const result = trainPpo({ envs: new SyncVectorEnv([() => createCartPole()]), totalTimesteps: 256, nSteps: 128, batchSize: 64, nEpochs: 1, seed: 0 });
let tfjs = 'loaded';
try {
  await createTfjsPolicy(createCheckpoint(result, { envId: 'CartPole-v1' }), { featureSetVersion: 'none', observationSize: 4 });
} catch (error) {
  tfjs = isKflowError(error) ? error.code : String(error);
}

console.log(JSON.stringify({
  observationSize: observation.length,
  finite: observation.every(Number.isFinite),
  orderOk: order.ok,
  frames: counters.frames,
  reward: step.reward,
  tfjs,
}));
`;

/** Node 20.19+ \`require()\`s the ESM-only packages (the \`default\` export condition). */
const REQUIRE_CJS = `
const { createRng, parsePriceUnits } = require('@kflow/orderbook');
const { checkEnv, createCartPole } = require('@kflow/env');
const { trainPpo } = require('@kflow/agents');
const { openPglite } = require('@kflow/ingest');
const { resolveSimConfig } = require('@kflow/sim');
const { createActor } = require('@kflow/actor');
checkEnv(createCartPole());
console.log(JSON.stringify({ priceUnits: parsePriceUnits('0.1700'), draw: createRng(1).int(10), kinds: [typeof trainPpo, typeof openPglite, typeof createActor], seed: resolveSimConfig('calm').seed }));
`;

describe('the published packages, installed from their tarballs', { timeout: 300_000 }, () => {
  let work = '';
  let packs = '';
  let project = '';
  const tarballs = new Map<string, string>();

  beforeAll(async () => {
    // Build what is stale (tsup's --clean only touches each package's own dist).
    const staleLibraries: string[] = [];
    for (const name of LIBRARIES) if (await stale(join(ROOT, 'packages', name))) staleLibraries.push(name);
    if (staleLibraries.length > 0) await pnpm(['-r', ...staleLibraries.flatMap((name) => ['--filter', `./packages/${name}`]), 'run', 'build'], ROOT);
    if (await stale(APP, ['./dist/trainingWorker.js'])) await pnpm(['exec', 'tsup'], APP);
    await ensureDashboard(() => {});

    work = await mkdtemp(join(tmpdir(), 'kflow-packaging-'));
    packs = join(work, 'packs');
    project = join(work, 'project');
    const dirs = [...LIBRARIES.map((name) => join(ROOT, 'packages', name)), APP];
    await Promise.all(dirs.map((dir) => pnpm(['pack', '--pack-destination', packs], dir)));
    for (const file of await readdir(packs)) tarballs.set(file.replace(/^kflow-/, '').replace(/-\d+\.\d+\.\d+.*\.tgz$/, ''), join(packs, file));
    expect([...tarballs.keys()].sort()).toEqual([...LIBRARIES, 'cli'].sort());

    // One fresh npm project for every check below.
    await mkdir(project);
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'kflow-consumer', private: true, type: 'module' }, null, 2));
    const typesNode = (JSON.parse(await readFile(join(ROOT, 'node_modules/@types/node/package.json'), 'utf8')) as { version: string }).version;
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', ...tarballs.values(), 'typescript@5.9.3', `@types/node@${typesNode}`],
      project,
    );
  }, 600_000);

  afterAll(async () => {
    if (work !== '') await rm(work, { recursive: true, force: true });
  });

  it('ships manifests without workspace-only conditions or specifiers, pointing only at packed files', async () => {
    const license = await readFile(join(ROOT, 'LICENSE'), 'utf8');
    for (const [name, path] of tarballs) {
      const { files, manifest, license: packedLicense } = await tarball(path);
      const text = JSON.stringify(manifest);
      expect(text, name).not.toContain('@kflow/source');
      expect(text, name).not.toContain('workspace:');
      expect(manifest['private'], name).toBeUndefined();
      expect(manifest['license'], name).toBe('MIT');
      expect(manifest['engines'], name).toEqual({ node: '>=20.19' });
      expect(manifest['repository'], name).toEqual({
        type: 'git',
        url: 'git+https://github.com/kflow-dev/kflow.git',
        directory: name === 'cli' ? 'examples/app' : `packages/${name}`,
      });
      expect(packedLicense, name).toBe(license);
      expect(files, name).toContain('README.md');
      for (const target of entryTargets(manifest)) expect(files, `${name}: ${target}`).toContain(target);
      expect(files.filter((f) => f.startsWith('src/') || /\.test\.|\.testing\./.test(f)), name).toEqual([]);
      if (name === 'cli') {
        expect(manifest['bin']).toEqual({ kflow: './dist/cli.js' });
        expect(files).toEqual(expect.arrayContaining(['dist/cli.js', 'dist/trainingWorker.js', 'dist/jobThread.js', 'dashboard/dist/index.html']));
      } else {
        expect(manifest['sideEffects'], name).toBe(false);
      }
    }
  });

  it('passes publint (strict, suggestions included)', async () => {
    for (const [name, path] of tarballs) {
      const data = await readFile(path);
      const tarballBuffer = data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer;
      const { messages, pkg } = await publint({ pack: { tarball: tarballBuffer }, strict: true, level: 'suggestion' });
      expect(messages.map((m) => `${name}: ${formatMessage(m, pkg) ?? m.code}`)).toEqual([]);
    }
  });

  it('passes arethetypeswrong (profile esm-only: node16 from ESM and bundler)', async () => {
    const attw = join(ROOT, 'node_modules/.bin/attw');
    // esm-only: the packages are ESM only, so attw's node10 and node16-from-CJS resolutions (TypeScript's
    // model of require() without require(esm)) do not apply; Node 20.19+ require() is checked by running it below.
    const args = ['--profile', 'esm-only', '--no-definitely-typed', '--no-color', '--no-emoji'];
    await Promise.all(LIBRARIES.map((name) => run(attw, [tarballs.get(name)!, ...args], work)));
  });

  it('type-checks a consumer with strict, noUncheckedIndexedAccess, exactOptionalPropertyTypes and NodeNext', async () => {
    await writeFile(join(project, 'index.ts'), CONSUMER_TS);
    await writeFile(join(project, 'tsconfig.json'), JSON.stringify(CONSUMER_TSCONFIG, null, 2));
    await run(process.execPath, [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json', '--noEmit'], project);
  });

  it('runs from ESM and from CommonJS require() (Node 20.19+)', async () => {
    await writeFile(join(project, 'run.mjs'), RUN_MJS);
    const ran = JSON.parse(await run(process.execPath, ['run.mjs'], project)) as Record<string, unknown>;
    expect(ran).toMatchObject({ observationSize: 27, finite: true, orderOk: true, reward: 0, tfjs: 'DEPENDENCY_NOT_INSTALLED' });
    expect(ran['frames']).toBeGreaterThan(1_000);

    await writeFile(join(project, 'require.cjs'), REQUIRE_CJS);
    const required = JSON.parse(await run(process.execPath, ['require.cjs'], project)) as Record<string, unknown>;
    expect(required).toEqual({ priceUnits: 1700, draw: expect.any(Number), kinds: ['function', 'function', 'function'], seed: 1 });
  });

  it('installs the kflow CLI: --help, sim and a small demo run from the installed bin', async () => {
    const kflow = (args: readonly string[]) => run('npx', ['--no-install', 'kflow', ...args], project);
    expect(await kflow(['--help'])).toMatch(/Usage:\s+\$ kflow <command>/);

    const sim = JSON.parse(await kflow(['sim', '--sim-markets', '2', '--sim-minutes', '1', '--out', 'capture.jsonl', '--json'])) as { frames: number; markets: unknown[] };
    expect(sim.markets).toHaveLength(2);
    expect(sim.frames).toBeGreaterThan(1_000);

    const demo = JSON.parse(
      await kflow(['demo', '--sim-markets', '2', '--sim-minutes', '2', '--timesteps', '4096', '--episodes', '4', '--paper-minutes', '2', '--data-dir', './demo', '--json']),
    ) as { training: { timesteps: number }; paper: { decisions: number; modelVersions: number[] }; audit: { mismatches: number } };
    expect(demo.training.timesteps).toBe(4096);
    expect(demo.paper.decisions).toBeGreaterThan(0);
    expect(demo.paper.modelVersions).toEqual([1, 2]);
    expect(demo.audit.mismatches).toBe(0);

    // The threads ship as their own files: PPO's update threads (@kflow/agents) and a queued job's thread (the CLI).
    const threaded = JSON.parse((await kflow(['train', '--timesteps', '2048', '--workers', '2', '--json'])).trim().split('\n').at(-1)!) as { workers: number; timesteps: number };
    expect(threaded).toMatchObject({ workers: 2, timesteps: 2048 });
    const retrain = ['retrain', '--name', 'packaged', '--train-sessions', '1', '--eval-sessions', '1', '--timesteps', '2048', '--episodes', '4', '--data-dir', './demo', '--json'];
    const decision = JSON.parse(await kflow(retrain)) as { candidate: { version: number }; jobIds: string[] };
    expect(decision.candidate.version).toBe(1);
    expect(decision.jobIds).toHaveLength(2);
  });
});
