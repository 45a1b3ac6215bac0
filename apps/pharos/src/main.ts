import { runEmbedded } from './embedded.js';
import { serverCommand } from './flags.js';

await serverCommand(runEmbedded).parseAsync(process.argv);
