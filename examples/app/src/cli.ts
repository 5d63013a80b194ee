#!/usr/bin/env node
import { cac } from 'cac';
import manifest from '../package.json' with { type: 'json' };
import { registerBench } from './commands/bench';
import { registerCollect } from './commands/collect';
import { registerSessions } from './commands/sessions';
import { registerRecover } from './commands/recover';
import { registerFee } from './commands/fee';
import { registerReplay } from './commands/replay';
import { registerSim } from './commands/sim';
import { registerEnvCheck } from './commands/envCheck';
import { registerTrain } from './commands/train';
import { registerEval } from './commands/eval';
import { registerLearningCheck } from './commands/learningCheck';
import { registerRobustness } from './commands/robustness';
import { registerDemo } from './commands/demo';
import { registerPaper } from './commands/paper';
import { registerModels } from './commands/models';
import { registerAudit } from './commands/audit';
import { registerServe } from './commands/serve';
import { registerFaults } from './commands/faults';
import { registerWorker } from './commands/worker';
import { registerJobs } from './commands/jobs';
import { registerRetrain } from './commands/retrain';
import { registerLoop } from './commands/loop';
import { printJson } from './output';

const cli = cac('kflow');
registerBench(cli);
registerCollect(cli);
registerSessions(cli);
registerRecover(cli);
registerFee(cli);
registerReplay(cli);
registerSim(cli);
registerEnvCheck(cli);
registerTrain(cli);
registerEval(cli);
registerLearningCheck(cli);
registerRobustness(cli);
registerDemo(cli);
registerPaper(cli);
registerModels(cli);
registerAudit(cli);
registerServe(cli);
registerFaults(cli);
registerWorker(cli);
registerJobs(cli);
registerRetrain(cli);
registerLoop(cli);
cli.help();
cli.version(manifest.version);

async function main(): Promise<void> {
  cli.parse(process.argv, { run: false });
  if (!cli.matchedCommand) {
    if (!cli.options.help && !cli.options.version) cli.outputHelp();
    return;
  }
  await cli.runMatchedCommand();
}

main().catch((error: unknown) => {
  const message = error instanceof Error ? error.message : String(error);
  const code = typeof (error as { code?: unknown } | undefined)?.code === 'string' ? (error as { code: string }).code : undefined;
  process.stderr.write(`kflow: ${message}\n`);
  // With --json the failure is also the last JSON line on stdout, so scripts see why.
  if (cli.options.json === true) printJson({ ok: false, error: { ...(code === undefined ? {} : { code }), message } });
  process.exitCode = 1;
});
