/**
 * `yurt node drain -enable|-disable <node>`: move allocations off a node (or stop doing so),
 * then follow the drain until the node is empty, as `nomad node drain` does.
 */
import type { DrainSpec } from '../../api/nodes.js';
import { NS_PER_HOUR, parseDuration } from '../../structs/duration.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatTime } from '../format/time.js';
import { localNodeId } from '../local-node.js';
import { nodeLookup } from '../lookups.js';
import { monitorDrain } from '../monitor/drain-monitor.js';
import { resolvePrefix } from '../prefix.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  enable: { type: 'bool', help: 'Enable draining for the specified node.' },
  disable: { type: 'bool', help: 'Disable draining for the specified node.' },
  self: { type: 'bool', help: 'Set the drain status of the local node.' },
  deadline: { type: 'duration', help: 'Set the deadline by which all allocations must be moved off the node. Remaining allocations after the deadline are forced removed from the node. Defaults to 1 hour.' },
  'no-deadline': { type: 'bool', help: 'No deadline allows the allocations to drain off the node without being force stopped after a certain deadline.' },
  force: { type: 'bool', help: 'Force remove allocations off the node immediately.' },
  'ignore-system': { type: 'bool', help: 'Ignore system allows the drain to complete without stopping system job allocations.' },
  'keep-ineligible': { type: 'bool', help: 'Keep ineligible will maintain the node\'s scheduling ineligibility even if the drain is being disabled.' },
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode.' },
  monitor: { type: 'bool', help: 'Enter monitor mode directly without modifying the drain status.' },
  yes: { type: 'bool', help: 'Automatic yes to prompts.' },
});

export const nodeDrainCommand: Command = {
  path: ['node', 'drain'],
  synopsis: 'Toggle drain mode on a given node',
  help: commandHelp({
    usage: 'yurt node drain [options] <node>',
    description: `Toggles node draining on a specified node. It is required that either -enable
or -disable is specified, but not both. The -self flag is useful to drain the
local node.

If an allocation is part of a service job, its replacement is scheduled before
it is stopped. A monitor prints each allocation's migration until the drain is
done; Ctrl-C stops the monitor without cancelling the drain.`,
    general: true,
    optionsTitle: 'Node Drain Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    if (f.enable === f.disable && !f.monitor) throw new UsageError('Either the \'-enable\' or \'-disable\' flag must be set, unless using \'-monitor\'');
    if (f.self) expectArgs(args, 0, 0, 'no arguments with -self');
    else expectArgs(args, 1, 1, 'one argument: <node>, or -self');
    if ([f.force, f['no-deadline'], f.deadline !== undefined].filter(Boolean).length > 1) {
      throw new UsageError('-deadline, -no-deadline and -force are mutually exclusive');
    }
    const deadline = f.deadline !== undefined ? parseDuration(f.deadline) : NS_PER_HOUR;
    if (deadline <= 0) throw new UsageError('A positive drain deadline must be given');
    const client = apiClient(io, f);
    let nodeId: string;
    if (f.self) {
      const id = await localNodeId(io, client);
      if (typeof id === 'number') return id;
      nodeId = id;
    } else {
      const stub = await resolvePrefix(io, args[0] ?? '', nodeLookup(client, { verbose: false }));
      if (typeof stub === 'number') return stub;
      nodeId = stub.ID;
    }
    const say = (msg: string): void => io.out(`${formatTime(io.now())}: ${msg}`);
    const monitor = async (): Promise<number> => {
      say('Ctrl-C to stop monitoring: will not cancel the node drain');
      try {
        await monitorDrain(client, nodeId, io.out, { ignoreSystem: f['ignore-system'], now: io.now, signal: io.signal });
      } catch (err) {
        if (io.signal.aborted) throw err;
        return reportError(io, 'Error monitoring node drain', err);
      }
      return EXIT_OK;
    };
    if (f.monitor) return monitor();

    if (!f.yes) {
      io.out(`Are you sure you want to ${f.enable ? 'enable' : 'disable'} drain mode for node "${nodeId}"? [y/N]`);
      const answer = (await io.readLine())?.trim() ?? '';
      if (answer !== 'y') {
        io.out('Canceling drain toggle');
        return EXIT_OK;
      }
    }
    // Deadline in nanoseconds: -1 forces everything off at once, 0 waits as long as it takes.
    const deadlineNs = f.force ? -1 : f['no-deadline'] ? 0 : deadline;
    const spec: DrainSpec | null = f.enable ? { Deadline: deadlineNs, IgnoreSystemJobs: f['ignore-system'] } : null;
    try {
      await client.nodes.updateDrain(nodeId, spec, f.disable && !f['keep-ineligible']);
    } catch (err) {
      return reportError(io, 'Error updating drain specification', err);
    }
    if (f.disable) {
      say(`Node "${nodeId}" drain strategy unset`);
      return EXIT_OK;
    }
    say(`Node "${nodeId}" drain strategy set`);
    return f.detach ? EXIT_OK : monitor();
  },
};
