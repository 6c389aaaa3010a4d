/** `yurt eval status <eval>`: one evaluation, with why placements failed. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatEvalDetail } from '../format/eval-view.js';
import { toJson } from '../json-output.js';
import { evalLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  verbose: { type: 'bool', help: 'Show full information: full IDs and exact times.' },
  json: { type: 'bool', help: 'Output the evaluation in its API JSON format.' },
});

export const evalStatusCommand: Command = {
  path: ['eval', 'status'],
  synopsis: 'Display evaluation status and placement failure reasons',
  help: commandHelp({
    usage: 'yurt eval status [options] <evaluation>',
    description: `Display information about an evaluation: its status, what triggered it, the
allocations it placed and, when placement failed, the reasons per task group.`,
    general: true,
    optionsTitle: 'Eval Status Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 1, 'one argument: <evaluation>');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', evalLookup(client, { verbose: f.verbose }));
    if (typeof stub === 'number') return stub;
    try {
      const ev = (await client.evaluations.info(stub.ID)).data;
      if (f.json) {
        io.out(toJson(ev));
        return EXIT_OK;
      }
      const allocs = (await client.evaluations.allocations(ev.ID)).data ?? [];
      io.out(formatEvalDetail(ev, allocs, { verbose: f.verbose, nowMs: io.now() }));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error querying evaluation', err);
    }
  },
};
