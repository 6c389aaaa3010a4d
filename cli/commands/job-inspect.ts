/** `yurt job inspect <job>`: the registered job as API JSON, ready to POST again. */
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { toJson } from '../json-output.js';
import { jobLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

export const jobInspectCommand: Command = {
  path: ['job', 'inspect'],
  synopsis: 'Inspect the contents of a submitted job',
  help: commandHelp({
    usage: 'yurt job inspect [options] <job>',
    description: `Inspect the job as the servers hold it. The output is the API JSON wrapped in a
"Job" key, so it can be submitted to POST /v1/jobs as it is.`,
    general: true,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, generalFlags);
    expectArgs(args, 1, 1, 'one argument: <job>');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', jobLookup(client));
    if (typeof stub === 'number') return stub;
    try {
      const job = (await client.jobs.info(stub.ID)).data;
      io.out(toJson({ Job: job }));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error inspecting job', err);
    }
  },
};
