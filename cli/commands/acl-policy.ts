/** `yurt acl policy apply | list | info | delete`: ACL policies (rules in HCL). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AclPolicies } from '../../api/acl.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { expectArgs, parseArgs } from '../usage.js';
import { formatPolicy, formatPolicyList } from './acl-view.js';
import { deleteCommand, showCommand } from './resource-commands.js';

const applyFlags = defineFlags({ description: { type: 'string', placeholder: 'description', help: 'Specifies a human readable description for the policy.' } });

export const aclPolicyApplyCommand: Command = {
  path: ['acl', 'policy', 'apply'],
  synopsis: 'Create or update an ACL policy',
  help: commandHelp({
    usage: 'yurt acl policy apply [options] <name> <path>',
    description: `Apply is used to create or update an ACL policy. The policy is sourced from
<path>, or from stdin if path is "-". The servers check its rules and report
mistakes by file, line and column.`,
    general: true,
    optionsTitle: 'Apply Options',
    flags: applyFlags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...applyFlags });
    expectArgs(args, 2, 2, 'two arguments: <name> <path>');
    const [name = '', path = ''] = args;
    let rules: string;
    try {
      rules = path === '-' ? await io.readStdin() : await readFile(resolve(io.cwd, path), 'utf8');
    } catch (err) {
      return reportError(io, 'Error reading policy file', err);
    }
    try {
      await new AclPolicies(apiClient(io, f)).upsert({ Name: name, Description: f.description ?? '', Rules: rules });
    } catch (err) {
      return reportError(io, 'Error writing ACL policy', err);
    }
    io.out(`Successfully wrote "${name}" ACL policy!`);
    return EXIT_OK;
  },
};

export const aclPolicyListCommand = showCommand({
  path: ['acl', 'policy', 'list'],
  synopsis: 'List ACL policies',
  usage: 'yurt acl policy list [options]',
  description: 'List is used to list the ACL policies the token may see: all of them for a\nmanagement token, the ones it holds for any other.',
  optionsTitle: 'List Options',
  arg: null,
  failure: 'Error listing ACL policies',
  fetch: (c) => new AclPolicies(c).list(),
  format: (l) => formatPolicyList(l),
});

export const aclPolicyInfoCommand = showCommand({
  path: ['acl', 'policy', 'info'],
  synopsis: 'Fetch info on an ACL policy',
  usage: 'yurt acl policy info [options] <name>',
  description: 'Info is used to fetch information on an existing ACL policy, its rules included.',
  optionsTitle: 'Info Options',
  arg: '<name>',
  failure: 'Error fetching ACL policy',
  fetch: (c, name) => new AclPolicies(c).info(name),
  format: (p) => formatPolicy(p),
});

export const aclPolicyDeleteCommand = deleteCommand({
  path: ['acl', 'policy', 'delete'],
  synopsis: 'Delete an existing ACL policy',
  usage: 'yurt acl policy delete [options] <name>',
  description: 'Delete is used to delete an existing ACL policy. Tokens that name it lose what it granted.',
  arg: '<name>',
  failure: 'Error deleting ACL policy',
  remove: (c, name) => new AclPolicies(c).delete(name),
  done: (name) => `Successfully deleted "${name}" ACL policy!`,
});
