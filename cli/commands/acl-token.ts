/** `yurt acl token create | update | list | info | self | delete`: ACL tokens. */
import { AclTokens } from '../../api/acl.js';
import type { ACLTokenInput } from '../../api/acl.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { toJson } from '../json-output.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';
import { formatToken, formatTokenList } from './acl-view.js';
import { deleteCommand, showCommand } from './resource-commands.js';

const jsonFlag = defineFlags({ json: { type: 'bool', help: 'Output in the API JSON format.' } });

const createFlags = defineFlags({
  name: { type: 'string', placeholder: 'name', help: 'Sets the human readable name for the ACL token.' },
  type: { type: 'string', placeholder: 'client|management', help: 'Sets the type of token. Must be one of "client" (default), or "management".' },
  global: { type: 'bool', help: 'Toggles the global mode of the token. Global tokens are replicated to all regions.' },
  policy: { type: 'stringList', placeholder: 'name', help: 'Specifies a policy to associate with the token. Can be specified multiple times, but only with client type tokens.' },
  ttl: { type: 'duration', placeholder: 'duration', help: 'Specifies the time-to-live of the created ACL token ("1h", "30m"). The token is refused once it has passed.' },
  ...jsonFlag,
});

function tokenType(v: string | undefined): 'client' | 'management' | undefined {
  if (v === undefined) return undefined;
  if (v !== 'client' && v !== 'management') throw new UsageError(`Token type must be "client" or "management", not "${v}"`);
  return v;
}

export const aclTokenCreateCommand: Command = {
  path: ['acl', 'token', 'create'],
  synopsis: 'Create a new token',
  help: commandHelp({
    usage: 'yurt acl token create [options]',
    description: 'Create is used to issue new ACL tokens. Requires a management token.',
    general: true,
    optionsTitle: 'Create Options',
    flags: createFlags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...createFlags });
    expectArgs(args, 0, 0, 'no arguments');
    const req: ACLTokenInput = { Name: f.name ?? '', Type: tokenType(f.type) ?? 'client', Policies: f.policy, Global: f.global };
    if (f.ttl !== undefined) req.ExpirationTTL = f.ttl;
    try {
      const token = (await new AclTokens(apiClient(io, f)).create(req)).data;
      io.out(f.json ? toJson(token) : formatToken(token));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error creating token', err);
    }
  },
};

const updateFlags = defineFlags({
  name: createFlags.name,
  type: createFlags.type,
  global: createFlags.global,
  policy: createFlags.policy,
  ...jsonFlag,
});

export const aclTokenUpdateCommand: Command = {
  path: ['acl', 'token', 'update'],
  synopsis: 'Update an existing token',
  help: commandHelp({
    usage: 'yurt acl token update [options] <token_accessor_id>',
    description: 'Update is used to change an existing ACL token: its name, type or policies.',
    general: true,
    optionsTitle: 'Update Options',
    flags: updateFlags,
  }),
  async run(io, argv) {
    const { flags: f, args, set } = parseArgs(argv, { ...generalFlags, ...updateFlags });
    expectArgs(args, 1, 1, 'one argument: <token_accessor_id>');
    const req: ACLTokenInput & { AccessorID: string } = { AccessorID: args[0] ?? '' };
    if (f.name !== undefined) req.Name = f.name;
    const type = tokenType(f.type);
    if (type !== undefined) req.Type = type;
    if (set.has('global')) req.Global = f.global;
    if (f.policy.length > 0) req.Policies = f.policy;
    try {
      const token = (await new AclTokens(apiClient(io, f)).update(req)).data;
      io.out(f.json ? toJson(token) : formatToken(token));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error updating token', err);
    }
  },
};

export const aclTokenListCommand = showCommand({
  path: ['acl', 'token', 'list'],
  synopsis: 'List ACL tokens',
  usage: 'yurt acl token list [options]',
  description: 'List is used to list existing ACL tokens (without their secrets). Requires a management token.',
  optionsTitle: 'List Options',
  arg: null,
  failure: 'Error listing tokens',
  fetch: (c) => new AclTokens(c).list(),
  format: formatTokenList,
});

export const aclTokenInfoCommand = showCommand({
  path: ['acl', 'token', 'info'],
  synopsis: 'Fetch information on an existing token',
  usage: 'yurt acl token info [options] <token_accessor_id>',
  description: 'Info is used to fetch information on an existing ACL token: any token with a\nmanagement token, otherwise only the token itself.',
  optionsTitle: 'Info Options',
  arg: '<token_accessor_id>',
  failure: 'Error fetching token',
  fetch: (c, accessor) => new AclTokens(c).info(accessor),
  format: (t) => formatToken(t),
});

export const aclTokenSelfCommand = showCommand({
  path: ['acl', 'token', 'self'],
  synopsis: 'Lookup self token',
  usage: 'yurt acl token self [options]',
  description: 'Self is used to fetch information about the token this command sends\n(-token, YURT_TOKEN or NOMAD_TOKEN).',
  optionsTitle: 'Self Options',
  arg: null,
  failure: 'Error fetching self token',
  fetch: (c) => new AclTokens(c).self(),
  format: (t) => formatToken(t),
});

export const aclTokenDeleteCommand = deleteCommand({
  path: ['acl', 'token', 'delete'],
  synopsis: 'Delete an existing ACL token',
  usage: 'yurt acl token delete [options] <token_accessor_id>',
  description: 'Delete is used to delete an existing ACL token. Requires a management token.',
  arg: '<token_accessor_id>',
  failure: 'Error deleting token',
  remove: (c, accessor) => new AclTokens(c).delete(accessor),
  done: (accessor) => `Token ${accessor} successfully deleted`,
});
