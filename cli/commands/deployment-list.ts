/** `yurt deployment list`: the deployments, as `nomad deployment list` prints them. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatDeploymentList } from '../format/deployment-view.js';
import { toJson } from '../json-output.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  filter: { type: 'string', placeholder: 'expression', help: 'Specifies an expression used to filter query results (go-bexpr syntax, e.g. \'Status == "failed"\').' },
  verbose: { type: 'bool', help: 'Display full information: full IDs.' },
  json: { type: 'bool', help: 'Output the deployments in their JSON format.' },
});

export const deploymentListCommand: Command = {
  path: ['deployment', 'list'],
  synopsis: 'List all deployments',
  help: commandHelp({
    usage: 'yurt deployment list [options]',
    description: 'List is used to list the set of deployments tracked by Yurt, newest first.',
    general: true,
    optionsTitle: 'List Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 0, 0, 'no arguments');
    const client = apiClient(io, f);
    try {
      const list = (await client.deployments.list(f.filter !== undefined ? { filter: f.filter } : {})).data ?? [];
      // Newest first, as Nomad sorts them.
      const sorted = [...list].sort((a, b) => b.CreateIndex - a.CreateIndex);
      if (f.json) io.out(toJson(sorted));
      else io.out(sorted.length === 0 ? 'No deployments found' : formatDeploymentList(sorted, f.verbose ? 36 : 8));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error retrieving deployments', err);
    }
  },
};
