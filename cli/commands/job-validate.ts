/** `yurt job validate <file>`: parse and check a job file locally, submitting nothing. */
import { ValidationError } from '../../structs/errors.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, commandHelp } from '../command.js';
import { loadJobFile } from '../job-file.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  var: { type: 'stringList', placeholder: 'key=value', help: 'Variable for template, can be used multiple times.' },
  'var-file': { type: 'stringList', placeholder: 'path', help: 'Path to HCL2 file containing user variables.' },
});

export const jobValidateCommand: Command = {
  path: ['job', 'validate'],
  synopsis: 'Checks if a given job specification is valid',
  help: commandHelp({
    usage: 'yurt job validate [options] <path>',
    description: `Checks if a given HCL or JSON job file has a valid specification. This can be
used to check for any syntax errors or validation problems with a job.

If the supplied path is "-", the jobfile is read from stdin.`,
    general: false,
    optionsTitle: 'Validate Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, flags);
    expectArgs(args, 1, 1, 'one argument: <path>');
    try {
      await loadJobFile(io, args[0] ?? '', { vars: f.var, varFiles: f['var-file'] });
    } catch (err) {
      if (err instanceof UsageError) throw err;
      const cause = err instanceof Error ? err.cause : undefined;
      if (cause instanceof ValidationError) io.err(`Job validation errors:\n${cause.message}`);
      else io.err(`Error getting job struct: ${(err as Error).message}`);
      return EXIT_ERROR;
    }
    io.out('Job validation successful');
    return EXIT_OK;
  },
};
