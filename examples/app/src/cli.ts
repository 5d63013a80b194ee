import { cac } from 'cac';
import { registerBench } from './commands/bench';
import { registerCollect } from './commands/collect';
import { registerSessions } from './commands/sessions';
import { registerFee } from './commands/fee';
import { registerReplay } from './commands/replay';
import { registerSim } from './commands/sim';
import { registerEnvCheck } from './commands/envCheck';
import { registerTrain } from './commands/train';
import { registerEval } from './commands/eval';
import { registerLearningCheck } from './commands/learningCheck';
import { registerDemo } from './commands/demo';
import { registerPaper } from './commands/paper';
import { registerModels } from './commands/models';
import { registerAudit } from './commands/audit';
import { registerServe } from './commands/serve';

const cli = cac('kflow');
registerBench(cli);
registerCollect(cli);
registerSessions(cli);
registerFee(cli);
registerReplay(cli);
registerSim(cli);
registerEnvCheck(cli);
registerTrain(cli);
registerEval(cli);
registerLearningCheck(cli);
registerDemo(cli);
registerPaper(cli);
registerModels(cli);
registerAudit(cli);
registerServe(cli);
cli.help();
cli.version('0.1.0');

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
  process.stderr.write(`kflow: ${message}\n`);
  process.exitCode = 1;
});
