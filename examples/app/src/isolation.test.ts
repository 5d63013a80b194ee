import { readFile } from 'node:fs/promises';
import net from 'node:net';
import { dirname, join, resolve } from 'node:path';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { createActor, createStaticModelSource } from '@kflow/actor';
import { createKalshiHeuristicPolicy, evaluateKalshi, loadPolicy, readCheckpoint, trainPpo } from '@kflow/agents';
import { SyncVectorEnv, createKalshiEnv, createSyntheticSession } from '@kflow/env';
import { createRng, createSharedOrderbookState, fnv1a32, sessionEvents } from '@kflow/orderbook';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { TEST_SETUP, trainTestModel } from './paperTrading.testing';

const ROOT = resolve(import.meta.dirname, '../../..');

/** Every source file `entry` reaches through static imports, workspace packages resolved to their `src/`. */
async function importGraph(entry: string): Promise<Set<string>> {
  const seen = new Set<string>();
  const pending = [entry];
  while (pending.length > 0) {
    const file = pending.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    const text = await readFile(file, 'utf8');
    for (const match of text.matchAll(/^(?:import|export)\s[^;]*?from\s+'([^']+)'/gms)) {
      const spec = match[1]!;
      if (/^\s*(?:import|export)\s+type\s/.test(match[0])) continue; // erased at compile time
      if (spec.startsWith('.')) pending.push(`${resolve(dirname(file), spec)}.ts`);
      else if (spec.startsWith('@kflow/')) {
        const [, name, sub] = /^@kflow\/([^/]+)(?:\/(.+))?$/.exec(spec)!;
        pending.push(join(ROOT, 'packages', name!, 'src', `${sub ?? 'index'}.ts`));
      }
    }
  }
  return seen;
}

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kflow-isolation-'));
  await trainTestModel(join(dir, 'model'), 4);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('pipeline isolation', () => {
  it('the actor imports no training code: only orderbook, features and paper, never agents or env', async () => {
    const files = [...(await importGraph(join(ROOT, 'packages/actor/src/index.ts')))].map((f) => f.slice(ROOT.length + 1));
    const packages = new Set(files.map((f) => f.split('/')[1]));
    expect([...packages].sort()).toEqual(['actor', 'features', 'orderbook', 'paper']);
    expect(files.some((f) => /optimizers|rolloutBuffer|ppo|a2c|gae/.test(f))).toBe(false);
    expect(files.length).toBeGreaterThan(15); // the walk followed the graph (not vacuous)
    const manifest = JSON.parse(await readFile(join(ROOT, 'packages/actor/package.json'), 'utf8')) as { dependencies: Record<string, string> };
    expect(Object.keys(manifest.dependencies).sort()).toEqual(['@kflow/features', '@kflow/orderbook', '@kflow/paper']);
  });

  it('the actor never changes a model: the policy weights hash the same before and after a trading run', async () => {
    const policy = loadPolicy(await readCheckpoint(join(dir, 'model')));
    // The parameter view only (the network's arena also holds activations, which inference overwrites).
    const checksum = () => fnv1a32(new Uint8Array(policy.parameters.buffer, policy.parameters.byteOffset, policy.parameters.byteLength));
    const before = checksum();
    const session = createSyntheticSession({ seed: 5, markets: 2, eventsPerMarket: 3000 });
    const state = createSharedOrderbookState();
    const actor = createActor({ mode: 'paper', state, models: createStaticModelSource({ id: 'm', name: 'm', version: 1, policy, setup: policy.trading! }), rng: createRng(1) });
    await actor.start();
    for (const event of sessionEvents(session)) state.applyEvent(event);
    const summary = await actor.stop();
    expect(summary.decisions).toBeGreaterThan(100);
    expect(policy.parameters.length).toBeGreaterThan(100);
    expect(checksum()).toBe(before);
  });

  it('training and evaluation never open a socket', () => {
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      const session = createSyntheticSession({ seed: 6, markets: 2, eventsPerMarket: 3000 });
      const make = () => createKalshiEnv({ sessions: [session], ...TEST_SETUP, episodeSteps: 100 });
      const result = trainPpo({ envs: new SyncVectorEnv([make]), totalTimesteps: 1024, seed: 0, nSteps: 256, batchSize: 128, nEpochs: 1, policy: { hiddenSizes: [8] } });
      const evaluation = evaluateKalshi(result.policy, make(), 5, { seed: 1 });
      evaluateKalshi(createKalshiHeuristicPolicy(make().metadata), make(), 5, { seed: 1 });
      expect(evaluation.episodes).toBe(5);
      expect(connect).not.toHaveBeenCalled();
      // The spy does see sockets (not vacuous).
      const probe = new net.Socket();
      probe.on('error', () => {});
      probe.connect(1, '127.0.0.1');
      probe.destroy();
      expect(connect).toHaveBeenCalledTimes(1);
    } finally {
      connect.mockRestore();
    }
  });
});
