/** `yurt server members`: the server peers, as Nomad's `nomad server members`. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatServerMembers } from '../format/members-view.js';
import { toJson } from '../json-output.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  json: { type: 'bool', help: 'Output the server members in their JSON format.' },
});

export const serverMembersCommand: Command = {
  path: ['server', 'members'],
  synopsis: 'Display a list of known servers and their status',
  help: commandHelp({
    usage: 'yurt server members [options]',
    description: 'Display a list of the known servers and their status. Only Yurt servers are\nable to service this command.',
    general: true,
    optionsTitle: 'Server Members Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 0, 0, 'no arguments');
    const client = apiClient(io, f);
    let members;
    try {
      members = (await client.agent.members()).data;
    } catch (err) {
      return reportError(io, 'Error querying servers', err);
    }
    if (f.json) {
      io.out(toJson(members));
      return EXIT_OK;
    }
    // Without a leader the table is still worth showing; the Leader column reads false.
    const leader = await client.status.leader().catch(() => '');
    io.out(formatServerMembers(members?.Members ?? [], leader));
    return EXIT_OK;
  },
};
