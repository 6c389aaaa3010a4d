/** `yurt namespace apply | list | status | delete`: namespaces, the scope of jobs and what they create. */
import { readFile, stat } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { Namespaces } from '../../api/namespaces.js';
import type { NamespaceInput } from '../../api/namespaces.js';
import { YurtError } from '../../structs/errors.js';
import { defineFlags } from '../../structs/flags.js';
import { hclToJSON } from '../../structs/jobspec/hcl2json.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import type { CliIo } from '../io.js';
import { looksLikeJson, parseJsonText } from '../job-file.js';
import { expectArgs, parseArgs } from '../usage.js';
import { formatNamespace, formatNamespaceList } from './namespace-view.js';
import { deleteCommand, showCommand } from './resource-commands.js';

const applyFlags = defineFlags({
  description: { type: 'string', placeholder: 'description', help: 'An optional human readable description for the namespace.' },
  json: { type: 'bool', help: 'Parse the input as a JSON namespace specification.' },
});

async function isFile(io: CliIo, arg: string): Promise<boolean> {
  if (arg === '-') return true;
  try {
    return (await stat(resolve(io.cwd, arg))).isFile();
  } catch {
    return false;
  }
}

/**
 * A namespace specification file, HCL (`name = "...", description = "...", meta { ... }`) or
 * JSON (the API's `{"Name": ..., "Description": ..., "Meta": {...}}`).
 */
async function readSpec(io: CliIo, arg: string, json: boolean): Promise<NamespaceInput> {
  const text = arg === '-' ? await io.readStdin() : await readFile(resolve(io.cwd, arg), 'utf8');
  const filename = arg === '-' ? '<stdin>' : basename(arg);
  if (json || looksLikeJson(text)) {
    const v = parseJsonText(text, filename);
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new YurtError('parse_error', `${filename}: a namespace specification must be a JSON object`);
    return v as NamespaceInput;
  }
  const hcl = await hclToJSON(filename, text);
  const spec: NamespaceInput = { Name: '' };
  for (const [k, v] of Object.entries(hcl)) {
    if (k === 'name' && typeof v === 'string') spec.Name = v;
    else if (k === 'description' && typeof v === 'string') spec.Description = v;
    else if (k === 'meta') spec.Meta = Object.assign({}, ...(Array.isArray(v) ? (v as object[]) : [v as object])) as Record<string, string>;
    else if (k === 'quota' || k === 'capabilities' || k === 'node_pool_config') continue;
    else throw new YurtError('parse_error', `${filename}: unexpected ${JSON.stringify(k)} in a namespace specification; expected name, description or meta`);
  }
  if (spec.Name === '') throw new YurtError('parse_error', `${filename}: a namespace specification needs name = "..."`);
  return spec;
}

export const namespaceApplyCommand: Command = {
  path: ['namespace', 'apply'],
  synopsis: 'Create or update a namespace',
  help: commandHelp({
    usage: 'yurt namespace apply [options] <input>',
    description: `Apply is used to create or update a namespace. <input> is the namespace's name,
or the path of a specification file (HCL or JSON; "-" reads stdin). Requires a
management token.`,
    general: true,
    optionsTitle: 'Apply Options',
    flags: applyFlags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...applyFlags });
    expectArgs(args, 1, 1, 'one argument: <input>');
    const input = args[0] ?? '';
    const client = apiClient(io, f);
    const api = new Namespaces(client);
    let spec: NamespaceInput;
    try {
      if (await isFile(io, input)) {
        spec = await readSpec(io, input, f.json);
      } else {
        // An existing namespace keeps what the command line does not change.
        const existing = await api.info(input).then(
          (r) => r.data,
          (err: unknown) => {
            if (err instanceof YurtError && err.code === 'not_found') return null;
            throw err;
          },
        );
        spec = { Name: input, Description: existing?.Description ?? '', Meta: existing?.Meta ?? {} };
      }
      if (f.description !== undefined) spec.Description = f.description;
      await api.register(spec);
    } catch (err) {
      return reportError(io, 'Error applying namespace specification', err);
    }
    io.out(`Successfully applied namespace "${spec.Name}"!`);
    return EXIT_OK;
  },
};

export const namespaceListCommand = showCommand({
  path: ['namespace', 'list'],
  synopsis: 'List namespaces',
  usage: 'yurt namespace list [options]',
  description: 'List is used to list the namespaces the token has any capability in.',
  optionsTitle: 'List Options',
  arg: null,
  failure: 'Error retrieving namespaces',
  fetch: (c) => new Namespaces(c).list(),
  format: (l) => formatNamespaceList(l),
});

export const namespaceStatusCommand = showCommand({
  path: ['namespace', 'status'],
  synopsis: "Display a namespace's status",
  usage: 'yurt namespace status [options] <namespace>',
  description: 'Status is used to view the status of a particular namespace.',
  optionsTitle: 'Status Options',
  arg: '<namespace>',
  failure: 'Error retrieving namespace',
  fetch: (c, name) => new Namespaces(c).info(name),
  format: (n) => formatNamespace(n),
});

export const namespaceDeleteCommand = deleteCommand({
  path: ['namespace', 'delete'],
  synopsis: 'Delete a namespace',
  usage: 'yurt namespace delete [options] <namespace>',
  description: 'Delete is used to remove a namespace. A namespace that still holds jobs, and the\ndefault namespace, cannot be deleted. Requires a management token.',
  arg: '<namespace>',
  failure: 'Error deleting namespace',
  remove: (c, name) => new Namespaces(c).delete(name),
  done: (name) => `Successfully deleted namespace "${name}"!`,
});
