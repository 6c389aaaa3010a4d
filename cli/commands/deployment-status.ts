/** `yurt deployment status <deployment>`: one deployment and its per-group progress. */
import type { ApiClient } from '../../api/client.js';
import type { Deployment } from '../../structs/deployment.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatDeployment, formatDeploymentList } from '../format/deployment-view.js';
import { toJson } from '../json-output.js';
import type { PrefixLookup } from '../prefix.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

/** Deployments by ID prefix, with Nomad's table when the prefix is ambiguous. */
export function deploymentLookup(client: ApiClient, opts: { verbose: boolean }): PrefixLookup<Deployment> {
  return {
    noun: 'deployment',
    uuid: true,
    list: async (p) => (await client.deployments.prefixList(p)).data ?? [],
    table: (items) => formatDeploymentList(items, opts.verbose ? 36 : 8),
  };
}

const flags = defineFlags({
  verbose: { type: 'bool', help: 'Display full information: full IDs.' },
  json: { type: 'bool', help: 'Output the deployment in its JSON format.' },
});

export const deploymentStatusCommand: Command = {
  path: ['deployment', 'status'],
  synopsis: 'Display the status of a deployment',
  help: commandHelp({
    usage: 'yurt deployment status [options] <deployment id>',
    description: `Status is used to display the status of a deployment: its job version, status and
description, and per task group the desired, placed, healthy and unhealthy allocations
(and canaries, when the update strategy places them).`,
    general: true,
    optionsTitle: 'Status Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 1, 'one argument: <deployment id>');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', deploymentLookup(client, { verbose: f.verbose }));
    if (typeof stub === 'number') return stub;
    try {
      const d = (await client.deployments.info(stub.ID)).data;
      io.out(f.json ? toJson(d) : formatDeployment(d, f.verbose ? 36 : 8));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error retrieving deployment', err);
    }
  },
};
