/** `yurt node status [node]`: the client nodes, or one node in detail. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatNodeDetail, formatNodeList } from '../format/node-view.js';
import { toJson } from '../json-output.js';
import { localNodeId } from '../local-node.js';
import { nodeLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  self: { type: 'bool', help: 'Query the status of the local node.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs, drivers, attributes and meta.' },
  json: { type: 'bool', help: 'Output the node (or the node list) in its API JSON format.' },
});

export const nodeStatusCommand: Command = {
  path: ['node', 'status'],
  synopsis: 'Display status information about nodes',
  help: commandHelp({
    usage: 'yurt node status [options] <node>',
    description: `Display status information about client nodes. With no node ID, all nodes are
listed; with one, that node is shown with its allocations.`,
    general: true,
    optionsTitle: 'Node Status Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 0, f.self ? 0 : 1, f.self ? 'no arguments with -self' : 'either no arguments or one: <node>');
    const client = apiClient(io, f);
    let given = args[0];
    if (f.self) {
      const id = await localNodeId(io, client);
      if (typeof id === 'number') return id;
      given = id;
    }
    if (given === undefined) {
      try {
        const nodes = (await client.nodes.list()).data ?? [];
        io.out(f.json ? toJson(nodes) : formatNodeList(nodes, f.verbose));
        return EXIT_OK;
      } catch (err) {
        return reportError(io, 'Error querying node status', err);
      }
    }
    const stub = await resolvePrefix(io, given, nodeLookup(client, { verbose: f.verbose }));
    if (typeof stub === 'number') return stub;
    try {
      const node = (await client.nodes.info(stub.ID)).data;
      if (f.json) {
        io.out(toJson(node));
        return EXIT_OK;
      }
      const allocs = (await client.nodes.allocations(node.ID)).data ?? [];
      io.out(formatNodeDetail(node, allocs, { verbose: f.verbose, nowMs: io.now() }));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error querying node info', err);
    }
  },
};
