/**
 * Cluster membership. A configuration lives in the log as a `config` entry and takes effect
 * as soon as it is appended, committed or not (Raft thesis §4.1); truncating that entry
 * reverts to the previous one. Addresses travel with ids so every server learns how to
 * reach its peers from the log itself.
 *
 * Changes are single-server (thesis §4.1): each adds, promotes or removes one server, so
 * any majority of the old configuration overlaps any majority of the new one and no joint
 * consensus is needed — provided the leader lets only one change be uncommitted at a time.
 * A new server joins as a non-voter (it replicates but neither votes nor counts toward
 * commit) and is promoted once it has caught up (thesis §4.2.1).
 */
import type { FieldError } from '../../structs/errors.js';
import { YurtError } from '../../structs/errors.js';

export type Suffrage = 'voter' | 'nonvoter';

export interface Server {
  id: string;
  address: string;
  suffrage: Suffrage;
}

export interface Configuration {
  servers: Server[];
}

/** A configuration together with the index of the log entry that holds it (0: none). */
export interface IndexedConfiguration {
  index: number;
  configuration: Configuration;
}

export const emptyConfiguration: IndexedConfiguration = { index: 0, configuration: { servers: [] } };

export function voterIds(c: Configuration): string[] {
  return c.servers.filter((s) => s.suffrage === 'voter').map((s) => s.id);
}

export function findServer(c: Configuration, id: string): Server | undefined {
  return c.servers.find((s) => s.id === id);
}

/** One single-server membership change. */
export type ConfigChange =
  | { type: 'addNonVoter'; id: string; address: string }
  | { type: 'addVoter'; id: string; address: string }
  | { type: 'promote'; id: string }
  | { type: 'remove'; id: string };

/**
 * The configuration after `change`, `null` when the change is already in effect (adding a
 * server that is there with that address and at least that suffrage: retries are harmless),
 * or a YurtError saying why it cannot be made.
 */
export function applyConfigChange(c: Configuration, change: ConfigChange): Configuration | null | YurtError {
  if (change.id === '') return new YurtError('invalid_argument', 'a server id must not be empty');
  const existing = findServer(c, change.id);
  switch (change.type) {
    case 'addNonVoter':
    case 'addVoter': {
      if (change.address === '') return new YurtError('invalid_argument', `server ${change.id}: the address must not be empty`);
      const clash = c.servers.find((s) => s.address === change.address && s.id !== change.id);
      if (clash !== undefined) {
        return new YurtError('conflict', `address ${change.address} already belongs to server ${clash.id}`, {
          details: { id: change.id, address: change.address, existing: clash.id },
        });
      }
      const suffrage: Suffrage = change.type === 'addVoter' || existing?.suffrage === 'voter' ? 'voter' : 'nonvoter';
      if (existing !== undefined && existing.address === change.address && existing.suffrage === suffrage) return null;
      const updated: Server = { id: change.id, address: change.address, suffrage };
      return existing === undefined
        ? { servers: [...c.servers, updated] }
        : { servers: c.servers.map((s) => (s.id === change.id ? updated : s)) };
    }
    case 'promote':
      if (existing === undefined) return new YurtError('not_found', `server ${change.id} is not in the configuration`);
      if (existing.suffrage === 'voter') return null;
      return { servers: c.servers.map((s) => (s.id === change.id ? { ...s, suffrage: 'voter' as const } : s)) };
    case 'remove': {
      if (existing === undefined) return new YurtError('not_found', `server ${change.id} is not in the configuration`);
      const next = { servers: c.servers.filter((s) => s.id !== change.id) };
      if (voterIds(next).length === 0) {
        return new YurtError('invalid_argument', `removing ${change.id} would leave the cluster without a voter`);
      }
      return next;
    }
  }
}

/** Problems with a configuration, empty when it is usable. */
export function configurationProblems(c: Configuration): FieldError[] {
  const problems: FieldError[] = [];
  const seen = new Set<string>();
  for (const [i, s] of c.servers.entries()) {
    if (s.id === '') problems.push({ path: `servers[${i}].id`, message: 'must not be empty' });
    if (s.address === '') problems.push({ path: `servers[${i}].address`, message: 'must not be empty' });
    if (seen.has(s.id)) problems.push({ path: `servers[${i}].id`, message: `duplicate id ${JSON.stringify(s.id)}` });
    seen.add(s.id);
  }
  if (c.servers.length > 0 && !c.servers.some((s) => s.suffrage === 'voter')) {
    problems.push({ path: 'servers', message: 'at least one voter is required' });
  }
  return problems;
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

export function encodeConfiguration(c: Configuration): Uint8Array {
  return encoder.encode(JSON.stringify({ servers: c.servers.map((s) => ({ id: s.id, address: s.address, suffrage: s.suffrage })) }));
}

/** Decodes a `config` entry; a malformed one means the log is damaged, which is fatal. */
export function decodeConfiguration(data: Uint8Array, index: number): Configuration {
  let parsed: unknown;
  try {
    parsed = JSON.parse(decoder.decode(data));
  } catch (e) {
    throw new YurtError('corrupted', `configuration entry ${index} is not valid JSON`, { cause: e, details: { index } });
  }
  const servers = (parsed as { servers?: unknown } | null)?.servers;
  if (!Array.isArray(servers)) {
    throw new YurtError('corrupted', `configuration entry ${index} has no servers list`, { details: { index } });
  }
  const out: Server[] = [];
  for (const s of servers as unknown[]) {
    const r = s as Partial<Record<keyof Server, unknown>> | null;
    if (
      typeof r?.id !== 'string' ||
      typeof r.address !== 'string' ||
      (r.suffrage !== 'voter' && r.suffrage !== 'nonvoter')
    ) {
      throw new YurtError('corrupted', `configuration entry ${index} has a malformed server`, { details: { index } });
    }
    out.push({ id: r.id, address: r.address, suffrage: r.suffrage });
  }
  return { servers: out };
}
