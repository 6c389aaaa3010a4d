/**
 * Reading and writing the PEM files of `yurt tls`: paths relative to the command's working
 * directory, keys readable by their owner only, and an existing file never overwritten (a
 * second `tls ca create` must not destroy the CA every agent trusts).
 */
import { access, readFile, writeFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { YurtError } from '../../structs/errors.js';

export const CERT_MODE = 0o644;
export const KEY_MODE = 0o600;

/** Refuses before writing anything when any of the files already exists. */
export async function assertAbsent(cwd: string, ...names: string[]): Promise<void> {
  for (const name of names) {
    const exists = await access(resolve(cwd, name)).then(
      () => true,
      () => false,
    );
    if (exists) throw new YurtError('conflict', `${name} already exists; move it away or pick another name`);
  }
}

export async function writeNew(cwd: string, name: string, content: string, mode: number): Promise<void> {
  try {
    // "wx": created here or refused in the same step, no race with a concurrent writer.
    await writeFile(resolve(cwd, name), content, { flag: 'wx', mode });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new YurtError(code === 'EEXIST' ? 'conflict' : 'unavailable', code === 'EEXIST' ? `${name} already exists` : `cannot write ${name}: ${(e as Error).message}`, { cause: e });
  }
}

export async function readPem(cwd: string, name: string, what: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, name), 'utf8');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (e as Error).message;
    throw new YurtError('invalid_argument', `cannot read the ${what} ${name}: ${why}`, { cause: e });
  }
}
