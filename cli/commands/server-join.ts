/** `yurt server join` and `yurt server force-leave`, as Nomad's. */
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { expectArgs, parseArgs } from '../usage.js';

export const serverJoinCommand: Command = {
  path: ['server', 'join'],
  synopsis: 'Join server nodes together',
  help: commandHelp({
    usage: 'yurt server join [options] <addr> [<addr>...]',
    description:
      'Joins the local server to one or more servers (host or host:port of their RPC\nlistener, default port 4647). A server that is not in a cluster yet joins the\none found; a fresh server named here is added to this cluster.',
    general: true,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, generalFlags);
    expectArgs(args, 1, Infinity, 'at least one address to join');
    const client = apiClient(io, f);
    let joined = 0;
    const errors: string[] = [];
    for (const addr of args) {
      try {
        const r = (await client.agent.join(addr)).data;
        joined += r?.num_joined ?? 0;
        if (r?.error) errors.push(r.error);
      } catch (err) {
        return reportError(io, 'Error joining', err);
      }
    }
    for (const e of errors) io.err(`Error joining: ${e}`);
    if (joined === 0) return EXIT_ERROR;
    io.out(`Joined ${joined} servers successfully`);
    return EXIT_OK;
  },
};

export const serverForceLeaveCommand: Command = {
  path: ['server', 'force-leave'],
  synopsis: 'Force a server into the "left" state',
  help: commandHelp({
    usage: 'yurt server force-leave [options] <node>',
    description:
      'Removes a server (by name, as `yurt server members` shows it, or by ID) from the\ncluster\'s Raft configuration, e.g. one that failed and will not come back.',
    general: true,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, generalFlags);
    expectArgs(args, 1, 1, 'one server name');
    try {
      await apiClient(io, f).agent.forceLeave(args[0] ?? '');
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error force-leaving server', err);
    }
  },
};
