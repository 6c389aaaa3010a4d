/**
 * Finds the command the words name, handles help and version flags, and turns what a
 * command throws into an exit code: usage errors 2, everything else 1, Ctrl-C 130.
 */
import { isAbortError } from '../api/http-error.js';
import { asYurtError } from '../structs/errors.js';
import type { Command, CommandGroup } from './command.js';
import { EXIT_ERROR, EXIT_OK, EXIT_USAGE, isGroup } from './command.js';
import { root } from './commands/tree.js';
import { versionCommand } from './commands/version.js';
import type { CliIo } from './io.js';
import { UsageError, wantsHelp } from './usage.js';

const EXIT_INTERRUPTED = 130;

function childNamed(g: CommandGroup, word: string | undefined): Command | CommandGroup | undefined {
  return word === undefined ? undefined : g.children.find((c) => c.path[c.path.length - 1] === word);
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  const first = argv[0];
  if (first === '-v' || first === '-version' || first === '--version') return versionCommand.run(io, []);
  if (first === 'help') {
    io.out(root.help);
    return EXIT_OK;
  }

  let node: Command | CommandGroup = root;
  let i = 0;
  while (isGroup(node)) {
    const next = childNamed(node, argv[i]);
    if (next === undefined) break;
    node = next;
    i++;
  }
  const rest = argv.slice(i);

  if (isGroup(node)) {
    // A bare group (or `yurt`) shows what it holds; an unknown word is a usage error.
    const word = rest[0];
    if (word === undefined || wantsHelp(rest)) {
      io.out(node.help);
      return EXIT_OK;
    }
    const where = ['yurt', ...node.path].join(' ');
    io.err(`Unknown command: ${where} ${word}\n\n${node.help}`);
    return EXIT_USAGE;
  }

  if (wantsHelp(rest)) {
    io.out(node.help);
    return EXIT_OK;
  }
  const name = ['yurt', ...node.path].join(' ');
  try {
    return await node.run(io, [...rest]);
  } catch (err) {
    if (err instanceof UsageError) {
      io.err(`${err.message}\nFor additional help try '${name} -help'`);
      return EXIT_USAGE;
    }
    if (isAbortError(err) || io.signal.aborted) return EXIT_INTERRUPTED;
    io.err(`Error: ${asYurtError(err).message}`);
    return EXIT_ERROR;
  }
}
