/** `yurt job init [file]`: write an example job file to start from. */
import { writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { defineFlags } from '../../structs/flags.js';
import { EXAMPLE_JOB, EXAMPLE_JOB_SHORT } from '../../structs/jobspec/index.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, commandHelp } from '../command.js';
import { expectArgs, parseArgs } from '../usage.js';

export const DEFAULT_INIT_NAME = 'example.hcl';

const flags = defineFlags({
  short: { type: 'bool', help: 'If the short flag is set, a minimal jobspec without comments is emitted.' },
});

export const jobInitCommand: Command = {
  path: ['job', 'init'],
  synopsis: 'Create an example job file',
  help: commandHelp({
    usage: 'yurt job init [options] [filename]',
    description: `Creates an example job file that can be used as a starting point to customize
further. If no filename is given, the default of "${DEFAULT_INIT_NAME}" will be used.
An existing file is never overwritten.`,
    general: false,
    optionsTitle: 'Init Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, flags);
    expectArgs(args, 0, 1, 'either no arguments or one: <filename>');
    const filename = args[0] ?? DEFAULT_INIT_NAME;
    try {
      // "wx" creates only: a file that is already there is refused in the same step, no race.
      await writeFile(resolve(io.cwd, filename), f.short ? EXAMPLE_JOB_SHORT : EXAMPLE_JOB, { flag: 'wx', mode: 0o660 });
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      io.err(code === 'EEXIST' ? `Job '${filename}' already exists` : `Failed to write '${filename}': ${(err as Error).message}`);
      return EXIT_ERROR;
    }
    io.out(`Example job file written to ${filename}`);
    return EXIT_OK;
  },
};
