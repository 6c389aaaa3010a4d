/** `yurt job allocs <job>`: the allocations of a job, in the table `job status` shows. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatAllocListStubs } from '../format/job-view.js';
import { toJson } from '../json-output.js';
import { jobLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  all: { type: 'bool', help: 'Display the allocations of every version of the job, not only the current one.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs and exact times.' },
  json: { type: 'bool', help: 'Output the allocations in their JSON format.' },
});

export const jobAllocsCommand: Command = {
  path: ['job', 'allocs'],
  synopsis: 'List allocations for a job',
  help: commandHelp({
    usage: 'yurt job allocs [options] <job>',
    description: 'Display allocations for a particular job.',
    general: true,
    optionsTitle: 'Allocs Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 1, 'one argument: <job>');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', jobLookup(client));
    if (typeof stub === 'number') return stub;
    let allocs;
    try {
      allocs = (await client.jobs.allocations(stub.ID, f.all ? { params: { all: 'true' } } : {})).data ?? [];
    } catch (err) {
      return reportError(io, 'Error retrieving allocations', err);
    }
    if (f.json) io.out(toJson(allocs));
    else if (allocs.length === 0) io.out(`No allocations found for job "${stub.ID}"`);
    else io.out(formatAllocListStubs(allocs, f.verbose, f.verbose ? 36 : 8, io.now()));
    return EXIT_OK;
  },
};
