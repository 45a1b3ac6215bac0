import { runEmbedded } from './embedded.js';
import { serverCommand } from './flags.js';
import { testCommand } from './test-command.js';
import { tsdbCommand } from './tsdb-command.js';

await serverCommand(runEmbedded).addCommand(tsdbCommand()).addCommand(testCommand()).parseAsync(process.argv);
