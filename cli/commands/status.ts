/**
 * `yurt status [id]`: with no argument the job list; with one, whatever the ID (or prefix)
 * names — a job, evaluation, allocation, node or deployment — shown by that kind's status
 * command, as Nomad's `nomad status` does through its search endpoint. Here the five
 * `?prefix=` list endpoints answer instead, so it works against any agent that serves them.
 */
import type { ApiClient } from '../../api/client.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, commandHelp, generalFlags } from '../command.js';
import { apiClient } from '../command.js';
import type { CliIo } from '../io.js';
import { parseArgs } from '../usage.js';
import { allocStatusCommand } from './alloc-status.js';
import { deploymentStatusCommand } from './deployment-status.js';
import { evalStatusCommand } from './eval-status.js';
import { jobStatusCommand } from './job-status.js';
import { nodeStatusCommand } from './node-status.js';

const flags = defineFlags({
  verbose: { type: 'bool', help: 'Display full information.' },
  json: { type: 'bool', help: 'Output the object in its API JSON format.' },
});

interface Context {
  /** Nomad's context names, used in the "Multiple matches" message. */
  name: 'jobs' | 'evals' | 'allocs' | 'nodes' | 'deployment';
  command: Command;
  ids(client: ApiClient, prefix: string): Promise<string[]>;
}

const contexts: Context[] = [
  { name: 'jobs', command: jobStatusCommand, ids: async (c, p) => ((await c.jobs.prefixList(p)).data ?? []).map((x) => x.ID) },
  { name: 'evals', command: evalStatusCommand, ids: async (c, p) => ((await c.evaluations.prefixList(p)).data ?? []).map((x) => x.ID) },
  { name: 'allocs', command: allocStatusCommand, ids: async (c, p) => ((await c.allocations.prefixList(p)).data ?? []).map((x) => x.ID) },
  { name: 'nodes', command: nodeStatusCommand, ids: async (c, p) => ((await c.nodes.prefixList(p)).data ?? []).map((x) => x.ID) },
  { name: 'deployment', command: deploymentStatusCommand, ids: async (c, p) => ((await c.deployments.prefixList(p)).data ?? []).map((x) => x.ID) },
];

export type StatusMatch = { kind: 'one'; context: Context; id: string } | { kind: 'none' } | { kind: 'many'; matches: Array<[string, string[]]> };

/** Nomad's rule: one exact match wins; otherwise exactly one object across all kinds must match. */
export function pickStatusMatch(id: string, found: ReadonlyArray<[Context, string[]]>): StatusMatch {
  const exact = found.filter(([, ids]) => ids.includes(id));
  if (exact.length === 1 && exact[0] !== undefined) return { kind: 'one', context: exact[0][0], id };
  const nonEmpty = found.filter(([, ids]) => ids.length > 0);
  const total = nonEmpty.reduce((n, [, ids]) => n + ids.length, 0);
  if (total === 0) return { kind: 'none' };
  const only = nonEmpty[0];
  if (total === 1 && only !== undefined && only[1][0] !== undefined) return { kind: 'one', context: only[0], id: only[1][0] };
  return { kind: 'many', matches: nonEmpty.map(([c, ids]) => [c.name, ids]) };
}

async function run(io: CliIo, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
  if (args.length === 0) return jobStatusCommand.run(io, argv);
  if (args.length > 1) return jobStatusCommand.run(io, argv); // reports the usage error
  const id = args[0] ?? '';
  const client = apiClient(io, f);
  let found: Array<[Context, string[]]>;
  try {
    found = await Promise.all(contexts.map(async (c): Promise<[Context, string[]]> => [c, await c.ids(client, id)]));
  } catch (err) {
    io.err(`Error querying search with id: "${id}": ${(err as Error).message}`);
    return EXIT_ERROR;
  }
  const m = pickStatusMatch(id, found);
  switch (m.kind) {
    case 'none':
      io.err(`No matches found for id "${id}"`);
      return EXIT_ERROR;
    case 'many':
      io.err(`Multiple matches found for id "${id}"`);
      for (const [name, ids] of m.matches) io.err(`\n${name[0]?.toUpperCase() ?? ''}${name.slice(1)}:\n${ids.join(', ')}`);
      return EXIT_ERROR;
    case 'one':
      // The ID is the last word (flags come first); the kind's own command shows it.
      return m.context.command.run(io, [...argv.slice(0, -1), m.id]);
  }
}

export const statusCommand: Command = {
  path: ['status'],
  synopsis: 'Display the status output for a resource',
  help: commandHelp({
    usage: 'yurt status [options] <identifier>',
    description: `Display the status output for any Yurt resource matching the given identifier:
a job, evaluation, allocation or node, found by its ID or an ID prefix. With no
identifier, the list of jobs is shown.`,
    general: true,
    optionsTitle: 'Status Options',
    flags,
  }),
  run,
};
