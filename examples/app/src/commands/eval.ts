import type { CAC } from 'cac';
import { type Policy, createRandomPolicy, evaluate, loadPolicy, readCheckpoint } from '@kflow/agents';
import { createCartPole } from '@kflow/env';
import { createRng } from '@kflow/orderbook';
import { printJson } from '../output';

interface EvalOptions {
  model?: string;
  policy?: string;
  env: string;
  episodes: string;
  seed: string;
  json?: boolean;
}

export function registerEval(cli: CAC): void {
  cli
    .command('eval', 'Evaluate a checkpoint (or a baseline policy) on CartPole-v1')
    .option('--model <dir>', 'Checkpoint directory written by `kflow train --out`')
    .option('--policy <name>', 'Baseline instead of a checkpoint: random')
    .option('--env <id>', 'Environment id', { default: 'CartPole-v1' })
    .option('--episodes <n>', 'Episodes', { default: '20' })
    .option('--seed <n>', 'Seed of the first episode (episode i uses seed + i)', { default: '0' })
    .option('--json', 'Print one JSON object')
    .action(async (o: EvalOptions) => {
      if (o.env !== 'CartPole-v1') throw new Error(`--env must be CartPole-v1, got "${o.env}"`);
      if ((o.model === undefined) === (o.policy === undefined)) throw new Error('give exactly one of --model or --policy');
      const episodes = Number(o.episodes);
      const seed = Number(o.seed);
      if (!Number.isInteger(episodes) || episodes <= 0) throw new Error(`--episodes must be a positive integer, got "${o.episodes}"`);
      if (!Number.isInteger(seed)) throw new Error(`--seed must be an integer, got "${o.seed}"`);
      const env = createCartPole();
      let policy: Policy;
      let name: string;
      if (o.model !== undefined) {
        policy = loadPolicy(await readCheckpoint(o.model), {
          featureSetVersion: 'none',
          observationSize: env.observationSpace.size,
          action: { kind: 'discrete', n: env.actionSpace.n },
        });
        name = o.model;
      } else if (o.policy === 'random') {
        policy = createRandomPolicy({ observationSize: env.observationSpace.size, actionCount: env.actionSpace.n, rng: createRng(seed) });
        name = 'random';
      } else {
        throw new Error(`--policy must be random for CartPole-v1, got "${o.policy}"`);
      }
      const result = evaluate(policy, env, episodes, { seed });
      const summary = { policy: name, env: o.env, episodes, meanReturn: result.meanReturn, stdReturn: result.stdReturn };
      if (o.json) printJson(summary);
      else console.log(`${name} on ${o.env}: ${result.meanReturn.toFixed(1)} ± ${result.stdReturn.toFixed(1)} over ${episodes} episodes`);
    });
}
