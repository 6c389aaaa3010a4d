/**
 * Checks a node a client registers. Clients are our own code, but the RPC port is open to
 * anything holding a client certificate (or to anyone without TLS): a malformed node must be
 * refused with the fields named, never stored where every scheduler would trip over it.
 */
import { ValidationError, type FieldError } from './errors.js';
import type { Node } from './node.js';

type Check = (v: unknown) => boolean;
const str: Check = (v) => typeof v === 'string';
const num: Check = (v) => typeof v === 'number' && Number.isFinite(v);
const bool: Check = (v) => typeof v === 'boolean';
const obj: Check = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
const strMap: Check = (v) => obj(v) && Object.values(v as object).every(str);
const arr: Check = (v) => Array.isArray(v);

const FIELDS: Array<[string, Check, string]> = [
  ['ID', (v) => str(v) && v !== '' && (v as string).length <= 128, 'a non-empty string of at most 128 characters'],
  ['SecretID', (v) => str(v) && v !== '' && (v as string).length <= 128, 'a non-empty string of at most 128 characters'],
  ['Datacenter', str, 'a string'],
  ['Name', str, 'a string'],
  ['HTTPAddr', str, 'a string'],
  ['TLSEnabled', bool, 'a boolean'],
  ['Attributes', strMap, 'an object of strings'],
  ['Meta', strMap, 'an object of strings'],
  ['NodeClass', str, 'a string'],
  ['NodePool', str, 'a string'],
  ['Drain', bool, 'a boolean'],
  ['SchedulingEligibility', (v) => v === 'eligible' || v === 'ineligible', '"eligible" or "ineligible"'],
  ['Events', arr, 'an array'],
  ['Drivers', (v) => obj(v) && Object.values(v as object).every((d) => obj(d) && bool((d as Record<string, unknown>)['Detected']) && bool((d as Record<string, unknown>)['Healthy'])), 'an object of driver infos'],
  ['NodeResources', obj, 'an object'],
  ['ReservedResources', obj, 'an object'],
];

const RESOURCES: Array<[string, Check]> = [
  ['Cpu.CpuShares', num],
  ['Memory.MemoryMB', num],
  ['Disk.DiskMB', num],
  ['Networks', arr],
  ['Devices', arr],
];

function at(v: unknown, path: string): unknown {
  let cur = v;
  for (const p of path.split('.')) cur = obj(cur) ? (cur as Record<string, unknown>)[p] : undefined;
  return cur;
}

export function assertValidNode(node: unknown): asserts node is Node {
  const errors: FieldError[] = [];
  if (!obj(node)) throw new ValidationError('node', [{ path: 'Node', message: 'must be an object' }]);
  const n = node as Record<string, unknown>;
  for (const [field, check, what] of FIELDS) if (!check(n[field])) errors.push({ path: field, message: `must be ${what}` });
  if (obj(n['NodeResources'])) {
    for (const [path, check] of RESOURCES) if (!check(at(n['NodeResources'], path))) errors.push({ path: `NodeResources.${path}`, message: 'is missing or of the wrong type' });
  }
  if (errors.length > 0) throw new ValidationError(`node ${typeof n['ID'] === 'string' ? JSON.stringify(n['ID']) : ''}`.trim(), errors);
}
