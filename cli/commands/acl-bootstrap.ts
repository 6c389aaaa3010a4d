/** `yurt acl bootstrap [<path>]`: mint the first management token (the servers allow it once). */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { AclTokens } from '../../api/acl.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { toJson } from '../json-output.js';
import { expectArgs, parseArgs } from '../usage.js';
import { formatToken } from './acl-view.js';

const flags = defineFlags({ json: { type: 'bool', help: 'Output the bootstrap response in JSON format.' } });

export const aclBootstrapCommand: Command = {
  path: ['acl', 'bootstrap'],
  synopsis: 'Bootstrap the ACL system for initial token',
  help: commandHelp({
    usage: 'yurt acl bootstrap [options] [<path>]',
    description: `Bootstrap is used to bootstrap the ACL system and get an initial token.
The servers allow it once. An operator-chosen secret may be given in a file at
<path> (or "-" for stdin); otherwise the servers generate one.`,
    general: true,
    optionsTitle: 'Bootstrap Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 0, 1, 'at most one argument: [<path>]');
    let secret: string | undefined;
    try {
      const path = args[0];
      if (path !== undefined) secret = (path === '-' ? await io.readStdin() : await readFile(resolve(io.cwd, path), 'utf8')).trim();
    } catch (err) {
      return reportError(io, 'Error reading bootstrap secret', err);
    }
    try {
      const token = (await new AclTokens(apiClient(io, f)).bootstrap(secret)).data;
      io.out(f.json ? toJson(token) : formatToken(token));
      return EXIT_OK;
    } catch (err) {
      return reportError(io, 'Error bootstrapping', err);
    }
  },
};
