/** `yurt alloc status <alloc>`: one allocation and its tasks' recent events. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatAllocDetail } from '../format/alloc-view.js';
import { toJson } from '../json-output.js';
import { allocLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  verbose: { type: 'bool', help: 'Show full information: full IDs, exact times and placement metrics.' },
  json: { type: 'bool', help: 'Output the allocation in its API JSON format.' },
});

export const allocStatusCommand: Command = {
  path: ['alloc', 'status'],
  synopsis: 'Display allocation status information and metadata',
  help: commandHelp({
    usage: 'yurt alloc status [options] <allocation>',
    description: `Display information about an existing allocation and its tasks: its running
status, where it runs, and the recent events of each task.`,
    general: true,
    optionsTitle: 'Alloc Status Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 1, 'one argument: <allocation>');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', allocLookup(client, { verbose: f.verbose, nowMs: io.now() }));
    if (typeof stub === 'number') return stub;
    let alloc;
    try {
      alloc = (await client.allocations.info(stub.ID)).data;
    } catch (err) {
      return reportError(io, 'Error querying allocation', err);
    }
    io.out(f.json ? toJson(alloc) : formatAllocDetail(alloc, { verbose: f.verbose, nowMs: io.now() }));
    return EXIT_OK;
  },
};
