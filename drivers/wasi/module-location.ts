/**
 * Where a task's module file is on the host. `config.module` is relative to the task dir,
 * or absolute; either way it must lie inside the allocation dir, so that a job cannot make
 * the client read (and run, or leak through errors) an arbitrary host file. The check is
 * made on the path as written (before a download goes there) and again on the real path
 * (after symlinks are resolved).
 */
import { realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve } from 'node:path';
import { YurtError } from '../../structs/errors.js';

function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
}

/** The absolute path `config.module` names, checked to be inside the allocation dir. */
export function modulePathFor(module: string, taskDir: string, allocDir: string): string {
  const p = isAbsolute(module) ? resolve(module) : resolve(taskDir, module);
  if (!inside(resolve(allocDir), p)) {
    throw new YurtError(
      'invalid_argument',
      `config.module: "${module}" is outside the allocation directory (use a path relative to the task dir, such as local/app.wasm)`,
    );
  }
  return p;
}

/** The module's real path, once it exists: symlinks must not lead out of the allocation dir either. */
export async function realModulePath(module: string, path: string, allocDir: string): Promise<string> {
  let real: string;
  try {
    real = await realpath(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new YurtError(
      'invalid_argument',
      code === 'ENOENT'
        ? `config.module: "${module}" does not exist (looked for ${path})`
        : `config.module: "${module}": ${(e as Error).message}`,
    );
  }
  const root = await realpath(allocDir);
  if (!inside(root, real)) {
    throw new YurtError('invalid_argument', `config.module: "${module}" resolves to ${real}, outside the allocation directory`);
  }
  return real;
}
