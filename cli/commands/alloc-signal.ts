/** `yurt alloc signal [-s SIG] <alloc> [<task>]`: send a signal to a task (or all), as Nomad's. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { allocLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  s: { type: 'string', placeholder: 'signal', help: 'Specify the signal that the selected tasks should receive. Defaults to SIGKILL.' },
  task: { type: 'string', placeholder: 'task-name', help: 'Specify the individual task that will receive the signal. If task name is given with both an argument and the -task option, preference is given to the -task option.' },
  verbose: { type: 'bool', help: 'Show full information.' },
});

export const allocSignalCommand: Command = {
  path: ['alloc', 'signal'],
  synopsis: 'Signal a running allocation',
  help: commandHelp({
    usage: 'yurt alloc signal [options] <allocation> <task>',
    description: `Signal an existing allocation. This command is used to signal a specific
alloc and its subtasks. If no task is provided then all of the allocation's
subtasks will receive the signal.`,
    general: true,
    optionsTitle: 'Signal Specific Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 2, 'one or two arguments: <allocation> [<task>]');
    const task = f.task ?? args[1];
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', allocLookup(client, { verbose: f.verbose, nowMs: io.now() }));
    if (typeof stub === 'number') return stub;
    try {
      // The server validates the signal name and the task, so both errors read the same as Nomad's.
      await client.allocations.signal(stub.ID, (f.s ?? 'SIGKILL').toUpperCase(), task);
    } catch (err) {
      return reportError(io, 'Error signalling allocation', err);
    }
    return EXIT_OK;
  },
};
