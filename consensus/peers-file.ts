/**
 * Outage recovery with a `peers.json` file, as in hashicorp/raft and Nomad: when a quorum is
 * permanently lost, the operator stops the surviving servers, writes the same file into the
 * raft data directory of each (`<data_dir>/server/raft/peers.json` for the agent), and
 * starts them. The file replaces the stored configuration; the server appends it to its
 * log as a new configuration entry and deletes the file. Format (raft protocol 3):
 *
 *   [
 *     { "id": "adf4238a-882b-9ddc-4a9d-5b6758e4159e", "address": "10.1.0.1:4647", "non_voter": false },
 *     { "id": "8b6dda82-3103-11e7-93ae-92361f002671", "address": "10.1.0.2:4647" }
 *   ]
 *
 * `non_voter` is optional (default false). Every survivor must get the same file.
 */
import { existsSync, readFileSync } from 'node:fs';
import type { Configuration, Server } from './core/configuration.js';
import { configurationProblems } from './core/configuration.js';
import type { FieldError } from '../structs/errors.js';
import { ValidationError } from '../structs/errors.js';

export const PEERS_FILE = 'peers.json';

/** Reads and validates a peers.json file; undefined when there is none. */
export function readPeersFile(path: string): Configuration | undefined {
  if (!existsSync(path)) return undefined;
  const text = readFileSync(path, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    const m = /position (\d+)/.exec((e as Error).message);
    const pos = m === null ? undefined : lineCol(text, Number(m[1]));
    throw new ValidationError(`recovery file ${path}`, [
      { path: '', message: `not valid JSON: ${(e as Error).message}`, ...(pos === undefined ? {} : { pos: `${path}:${pos}` }) },
    ]);
  }
  const problems: FieldError[] = [];
  if (!Array.isArray(parsed)) {
    throw new ValidationError(`recovery file ${path}`, [{ path: '', message: 'must be a JSON array of {"id", "address", "non_voter"} objects' }]);
  }
  const servers: Server[] = [];
  for (const [i, raw] of (parsed as unknown[]).entries()) {
    const at = `[${i}]`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) {
      problems.push({ path: at, message: 'must be an object with "id" and "address"' });
      continue;
    }
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) {
      if (k !== 'id' && k !== 'address' && k !== 'non_voter') problems.push({ path: `${at}.${k}`, message: 'unknown field' });
    }
    if (typeof r['id'] !== 'string') problems.push({ path: `${at}.id`, message: 'must be a string' });
    if (typeof r['address'] !== 'string') problems.push({ path: `${at}.address`, message: 'must be a string' });
    if (r['non_voter'] !== undefined && typeof r['non_voter'] !== 'boolean') problems.push({ path: `${at}.non_voter`, message: 'must be true or false' });
    if (typeof r['id'] === 'string' && typeof r['address'] === 'string') {
      servers.push({ id: r['id'], address: r['address'], suffrage: r['non_voter'] === true ? 'nonvoter' : 'voter' });
    }
  }
  const config = { servers };
  if (servers.length === 0 && problems.length === 0) problems.push({ path: '', message: 'must list at least one server' });
  for (const p of configurationProblems(config)) problems.push({ ...p, path: p.path.replace(/^servers/, '') });
  if (problems.length > 0) throw new ValidationError(`recovery file ${path}`, problems);
  return config;
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset).split('\n');
  return `${before.length},${(before.at(-1)?.length ?? 0) + 1}`;
}
