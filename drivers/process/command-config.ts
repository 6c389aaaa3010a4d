/**
 * The task `config` block of the process drivers (Nomad's raw_exec/exec shape):
 * `command` (required) and `args`, plus the extra keys a driver declares. Unknown keys are
 * errors, as Nomad's HCL spec decoding rejects them, so a typo never silently does nothing.
 */
import { access, constants as fsConstants, stat } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import { YurtError } from '../../structs/errors.js';

export interface CommandConfig {
  command: string;
  args: string[];
}

/** Validates one extra key's value; returns an error message or null. */
export type KeyValidator = (value: unknown) => string | null;

/** Human-readable problems with `config` (empty when valid). */
export function validateCommandConfig(
  config: Record<string, unknown>,
  extraKeys: Record<string, KeyValidator> = {},
): string[] {
  const errors: string[] = [];
  const command = config['command'];
  if (typeof command !== 'string' || command.trim() === '') {
    errors.push('config.command: must be a non-empty string');
  }
  const args = config['args'];
  if (args !== undefined && !(Array.isArray(args) && args.every((a) => typeof a === 'string'))) {
    errors.push('config.args: must be a list of strings');
  }
  for (const [key, value] of Object.entries(config)) {
    if (key === 'command' || key === 'args') continue;
    const check = extraKeys[key];
    if (check === undefined) {
      errors.push(`config.${key}: unknown option (supported: ${['command', 'args', ...Object.keys(extraKeys)].join(', ')})`);
      continue;
    }
    const msg = check(value);
    if (msg !== null) errors.push(`config.${key}: ${msg}`);
  }
  return errors;
}

/** The command and args of an already validated config. */
export function commandConfig(config: Record<string, unknown>): CommandConfig {
  const args = config['args'];
  return {
    command: String(config['command']),
    args: Array.isArray(args) ? args.map(String) : [],
  };
}

/** Debian's default PATH, used when the task's environment has none. */
export const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

async function isExecutableFile(p: string): Promise<boolean> {
  try {
    const st = await stat(p);
    if (!st.isFile()) return false;
    await access(p, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/**
 * The absolute path of the program to run. A command with a slash is a path (relative ones
 * are relative to the task dir, the task's working directory); a bare name is looked up in
 * the task's PATH. Resolving here, not in the shell, turns "no such command" into a clear
 * start error instead of exit code 127 in the task's stderr.
 */
export async function resolveCommand(command: string, taskDir: string, pathEnv: string | undefined): Promise<string> {
  if (command.includes('/')) {
    const p = isAbsolute(command) ? command : resolve(taskDir, command);
    if (await isExecutableFile(p)) return p;
    throw new YurtError('invalid_argument', `command "${command}" (${p}) is not an executable file`);
  }
  const dirs = (pathEnv ?? DEFAULT_PATH).split(':').filter((d) => d !== '');
  for (const dir of dirs) {
    const p = join(isAbsolute(dir) ? dir : resolve(taskDir, dir), command);
    if (await isExecutableFile(p)) return p;
  }
  throw new YurtError('invalid_argument', `command "${command}" not found in PATH (${dirs.join(':')})`);
}

/** PATH lookup (agent PATH, then the default) for the driver's own helper programs (setsid, unshare, mount). */
export async function findProgram(name: string, pathEnv = process.env['PATH'] ?? DEFAULT_PATH): Promise<string | null> {
  try {
    return await resolveCommand(name, '/', `${pathEnv}:${DEFAULT_PATH}`);
  } catch {
    return null;
  }
}
