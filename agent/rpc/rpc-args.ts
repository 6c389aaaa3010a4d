/**
 * Checks on RPC arguments. Anything can arrive on the RPC port (a buggy or hostile peer), and
 * a handler that trusts a cast fails with a TypeError, which reads as an internal error; these
 * turn wrong shapes into `invalid_argument` errors that name the method and the field.
 */
import { YurtError } from '../../structs/errors.js';

export type RpcArgs = Record<string, unknown>;

export function rpcArgs(a: unknown, method: string): RpcArgs {
  if (typeof a !== 'object' || a === null || Array.isArray(a)) throw new YurtError('invalid_argument', `${method}: arguments must be an object`);
  return a as RpcArgs;
}

export function argString(x: RpcArgs, field: string, method: string, opts: { optional?: boolean; max?: number } = {}): string {
  const v = x[field];
  if (v === undefined && opts.optional === true) return '';
  if (typeof v !== 'string') throw new YurtError('invalid_argument', `${method}: ${field} must be a string`);
  // LMDB keys are limited to 1978 bytes; IDs and names are far shorter.
  if (v.length > (opts.max ?? 512)) throw new YurtError('invalid_argument', `${method}: ${field} is too long`);
  return v;
}

export function argBool(x: RpcArgs, field: string, method: string): boolean {
  const v = x[field];
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw new YurtError('invalid_argument', `${method}: ${field} must be a boolean`);
  return v;
}

export function argObject<T>(x: RpcArgs, field: string, method: string): T {
  const v = x[field];
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new YurtError('invalid_argument', `${method}: ${field} must be an object`);
  return v as T;
}

export function argArray<T>(x: RpcArgs, field: string, method: string): T[] {
  const v = x[field];
  if (!Array.isArray(v)) throw new YurtError('invalid_argument', `${method}: ${field} must be an array`);
  return v as T[];
}
