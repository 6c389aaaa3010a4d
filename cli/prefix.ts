/**
 * Short IDs: users type the 8 characters the tables show (or any prefix), and the CLI
 * finds the one object they mean through the API's `?prefix=` list endpoints, as Nomad's
 * CLI does. An exact ID always wins (job "web" when "web-2" also exists).
 */
import type { CliIo } from './io.js';
import { EXIT_ERROR } from './command.js';

export type PrefixMatch<T> = { kind: 'one'; item: T } | { kind: 'none' } | { kind: 'many'; items: T[] };

export function matchPrefix<T extends { ID: string }>(prefix: string, candidates: readonly T[]): PrefixMatch<T> {
  const p = prefix.trim();
  const exact = candidates.find((c) => c.ID === p);
  if (exact !== undefined) return { kind: 'one', item: exact };
  // The server filters already; filtering again keeps this right against one that does not.
  const items = candidates.filter((c) => c.ID.startsWith(p));
  if (items.length === 0) return { kind: 'none' };
  if (items.length === 1 && items[0] !== undefined) return { kind: 'one', item: items[0] };
  return { kind: 'many', items };
}

export interface PrefixLookup<T> {
  /** "allocation", "evaluation", "job", "node". */
  noun: string;
  /** UUID-keyed objects need at least two characters, as in Nomad. */
  uuid: boolean;
  list(prefix: string): Promise<T[]>;
  /** The table shown when the prefix is ambiguous. */
  table(items: T[]): string;
}

/** The one matching object, or (after printing why) the exit code to return. */
export async function resolvePrefix<T extends { ID: string }>(io: CliIo, prefix: string, lookup: PrefixLookup<T>): Promise<T | number> {
  if (lookup.uuid && prefix.length < 2) {
    io.err('Identifier must contain at least two characters.');
    return EXIT_ERROR;
  }
  let candidates: T[];
  try {
    candidates = await lookup.list(prefix);
  } catch (err) {
    io.err(`Error querying ${lookup.noun}: ${(err as Error).message}`);
    return EXIT_ERROR;
  }
  const m = matchPrefix(prefix, candidates ?? []);
  switch (m.kind) {
    case 'one':
      return m.item;
    case 'none':
      io.err(`No ${lookup.noun}(s) with prefix or id "${prefix}" found`);
      return EXIT_ERROR;
    case 'many':
      io.err(`Prefix matched multiple ${lookup.noun}s\n\n${lookup.table(m.items)}`);
      return EXIT_ERROR;
  }
}
