import { runEmbedded } from './embedded.js';
import { serverCommand } from './flags.js';
import { tsdbCommand } from './tsdb-command.js';

await serverCommand(runEmbedded).addCommand(tsdbCommand()).parseAsync(process.argv);
