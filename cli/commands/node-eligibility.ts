/** `yurt node eligibility -enable|-disable <node>`: whether the scheduler may place new work on a node. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { localNodeId } from '../local-node.js';
import { nodeLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  enable: { type: 'bool', help: 'Enable scheduling eligibility.' },
  disable: { type: 'bool', help: 'Disable scheduling eligibility.' },
  self: { type: 'bool', help: 'Set the eligibility of the local node.' },
});

export const nodeEligibilityCommand: Command = {
  path: ['node', 'eligibility'],
  synopsis: 'Toggle scheduling eligibility for a given node',
  help: commandHelp({
    usage: 'yurt node eligibility [options] <node>',
    description: `Toggles the scheduling eligibility of the node. Nodes that are ineligible keep
their current allocations but receive no new ones. It is required that either
-enable or -disable is specified, but not both.`,
    general: true,
    optionsTitle: 'Node Eligibility Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    if (f.enable === f.disable) throw new UsageError('Either the \'-enable\' or \'-disable\' flag must be set');
    if (f.self) expectArgs(args, 0, 0, 'no arguments with -self');
    else expectArgs(args, 1, 1, 'one argument: <node>, or -self');
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
    try {
      await client.nodes.updateEligibility(nodeId, f.enable);
    } catch (err) {
      return reportError(io, 'Error updating scheduling eligibility', err);
    }
    io.out(`Node "${nodeId}" scheduling eligibility set: ${f.enable ? 'eligible' : 'ineligible'} for scheduling`);
    return EXIT_OK;
  },
};
