/** `yurt version`. */
import type { Command } from '../command.js';
import { EXIT_OK, commandHelp } from '../command.js';
import { expectArgs, parseArgs } from '../usage.js';
import { yurtVersion } from '../version.js';

export const versionCommand: Command = {
  path: ['version'],
  synopsis: 'Prints the Yurt version',
  help: commandHelp({ usage: 'yurt version', description: 'Prints the Yurt version.', general: false }),
  async run(io, argv) {
    const { args } = parseArgs(argv, {});
    expectArgs(args, 0, 0, 'no arguments');
    io.out(`Yurt v${yurtVersion()}`);
    return EXIT_OK;
  },
};
