/** `yurt alloc restart <alloc> [<task>]`: restart a task (or all of them) in place, as Nomad's. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { allocLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  task: { type: 'string', placeholder: 'task-name', help: 'Specify the individual task to restart. If task name is given with both an argument and the -task option, preference is given to the -task option.' },
  'all-tasks': { type: 'bool', help: 'Restart all tasks in the allocation, including prestart and poststart tasks that already ran. Cannot be used with a task name.' },
  verbose: { type: 'bool', help: 'Show full information.' },
});

export const allocRestartCommand: Command = {
  path: ['alloc', 'restart'],
  synopsis: 'Restart a running allocation',
  help: commandHelp({
    usage: 'yurt alloc restart [options] <allocation> <task>',
    description: `Restart an existing allocation. This command is used to restart a specific
alloc and its tasks. If no task is provided then all of the allocation's tasks
that are currently running will be restarted.`,
    general: true,
    optionsTitle: 'Restart Specific Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 2, 'one or two arguments: <allocation> [<task>]');
    const task = f.task ?? args[1];
    if (f['all-tasks'] && task !== undefined) throw new UsageError('The -all-tasks option cannot be used with a task name');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', allocLookup(client, { verbose: f.verbose, nowMs: io.now() }));
    if (typeof stub === 'number') return stub;
    try {
      await client.allocations.restart(stub.ID, task, { allTasks: f['all-tasks'] });
    } catch (err) {
      return reportError(io, 'Failed to restart allocation', err);
    }
    return EXIT_OK;
  },
};
