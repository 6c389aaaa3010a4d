/**
 * Command-line usage: flags are parsed by structs/flags.ts (Go's flag syntax, as Nomad's
 * CLI); here its errors become UsageError, which the CLI prints with a pointer to `-help`
 * and exit code 2.
 */
import { YurtError } from '../structs/errors.js';
import { parseFlags } from '../structs/flags.js';
import type { FlagSpec, ParsedFlags } from '../structs/flags.js';

export class UsageError extends YurtError {
  constructor(message: string) {
    super('invalid_argument', message);
    this.name = 'UsageError';
  }
}

const HELP_FLAGS = new Set(['-h', '-help', '--help']);

/** Whether the user asked for help anywhere before a `--` (as mitchellh/cli, Nomad's, checks). */
export function wantsHelp(argv: readonly string[]): boolean {
  for (const a of argv) {
    if (a === '--') return false;
    if (HELP_FLAGS.has(a)) return true;
  }
  return false;
}

export function parseArgs<S extends FlagSpec>(argv: readonly string[], spec: S): ParsedFlags<S> {
  try {
    return parseFlags(argv, spec);
  } catch (err) {
    if (err instanceof YurtError && err.code === 'invalid_argument') throw new UsageError(err.message);
    throw err;
  }
}

/** Checks the number of positional arguments; `what` names them for the message. */
export function expectArgs(args: readonly string[], min: number, max: number, what: string): void {
  if (args.length < min || args.length > max) throw new UsageError(`This command takes ${what}`);
}
