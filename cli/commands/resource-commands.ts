/**
 * The two shapes most resource commands share: "show it" (list / info / status / self: fetch,
 * then print the API JSON with -json or a formatted view) and "delete it by name". Defining
 * them once keeps argument checks, -json and error wording alike across acl, namespace and
 * the like.
 */
import type { ApiClient } from '../../api/client.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { toJson } from '../json-output.js';
import { expectArgs, parseArgs } from '../usage.js';

const jsonFlag = defineFlags({ json: { type: 'bool', help: 'Output in the API JSON format.' } });

interface CommandText {
  path: string[];
  synopsis: string;
  usage: string;
  description: string;
  /** The one positional argument, e.g. "<name>"; null for none. */
  arg: string | null;
  /** How a failure starts: "Error fetching ACL policy". */
  failure: string;
}

export interface ShowCommandSpec<T> extends CommandText {
  optionsTitle: string;
  fetch: (client: ApiClient, arg: string) => Promise<{ data: T }>;
  /** `now` (the CLI's clock) is for relative times. */
  format: (value: T, now: number) => string;
}

export function showCommand<T>(s: ShowCommandSpec<T>): Command {
  return {
    path: s.path,
    synopsis: s.synopsis,
    help: commandHelp({ usage: s.usage, description: s.description, general: true, optionsTitle: s.optionsTitle, flags: jsonFlag }),
    async run(io, argv) {
      const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...jsonFlag });
      if (s.arg === null) expectArgs(args, 0, 0, 'no arguments');
      else expectArgs(args, 1, 1, `one argument: ${s.arg}`);
      try {
        const value = (await s.fetch(apiClient(io, f), args[0] ?? '')).data;
        io.out(f.json ? toJson(value) : s.format(value, io.now()));
        return EXIT_OK;
      } catch (err) {
        return reportError(io, s.failure, err);
      }
    },
  };
}

export interface DeleteCommandSpec extends CommandText {
  arg: string;
  remove: (client: ApiClient, arg: string) => Promise<unknown>;
  /** What to print once deleted. */
  done: (arg: string) => string;
}

export function deleteCommand(s: DeleteCommandSpec): Command {
  return {
    path: s.path,
    synopsis: s.synopsis,
    help: commandHelp({ usage: s.usage, description: s.description, general: true }),
    async run(io, argv) {
      const { flags: f, args } = parseArgs(argv, generalFlags);
      expectArgs(args, 1, 1, `one argument: ${s.arg}`);
      const arg = args[0] ?? '';
      try {
        await s.remove(apiClient(io, f), arg);
      } catch (err) {
        return reportError(io, s.failure, err);
      }
      io.out(s.done(arg));
      return EXIT_OK;
    },
  };
}
