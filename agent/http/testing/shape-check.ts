/**
 * Compares a live API response with a fixture written from Nomad's API docs by field name
 * and JSON type (see testdata/nomad-shapes/README.md for the rules). Returns every mismatch
 * with its path, so one run shows all that differ.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ShapeFixture {
  source: string;
  request: string;
  shape: unknown;
}

export function loadShape(name: string): ShapeFixture {
  const path = fileURLToPath(new URL(`../testdata/nomad-shapes/${name}.json`, import.meta.url));
  return JSON.parse(readFileSync(path, 'utf8')) as ShapeFixture;
}

function jsonType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

export function shapeMismatches(expected: unknown, actual: unknown, path = '$'): string[] {
  if (expected === null) return [];
  const et = jsonType(expected);
  const at = jsonType(actual);
  if (et !== at) return [`${path}: expected ${et}, got ${at}${at === 'undefined' ? ' (missing)' : ''}`];
  if (et === 'array') {
    const proto = (expected as unknown[])[0];
    if (proto === undefined) return [];
    return (actual as unknown[]).flatMap((el, i) => shapeMismatches(proto, el, `${path}[${i}]`));
  }
  if (et !== 'object') return [];
  const exp = expected as Record<string, unknown>;
  const act = actual as Record<string, unknown>;
  const out: string[] = [];
  for (const [k, v] of Object.entries(exp)) {
    if (k === '*') {
      for (const [ak, av] of Object.entries(act)) out.push(...shapeMismatches(v, av, `${path}.${ak}`));
      continue;
    }
    // Even a field documented as possibly null must be there.
    if (!Object.hasOwn(act, k)) out.push(`${path}.${k}: missing`);
    else out.push(...shapeMismatches(v, act[k], `${path}.${k}`));
  }
  return out;
}
