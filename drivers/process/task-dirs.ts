/**
 * The task's directories as a process driver prepares them before a start: its own
 * local/, secrets/ and tmp/ (owned by the task's user) and the allocation's shared dir.
 */
import { chmod, chown, mkdir, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import type { TaskConfig } from '../driver.js';
import { isAgentUser, type TaskUser } from './task-user.js';

/**
 * The allocation's shared dir on the host. In Nomad's layout (<root>/alloc shared,
 * <root>/<task> per task) TaskConfig.allocDir is the root; when the task dir is not inside
 * it (tests pass one dir for both), allocDir itself is taken as the shared dir. The root is
 * never what a task gets: it holds every sibling task's secrets/.
 */
export function sharedAllocDir(cfg: Pick<TaskConfig, 'allocDir' | 'taskDir'>): string {
  const rel = relative(resolve(cfg.allocDir), resolve(cfg.taskDir));
  const inside = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel);
  return inside ? join(cfg.allocDir, 'alloc') : cfg.allocDir;
}

/**
 * Make the task's own dirs (local/, secrets/, tmp/) its user's, and keep the allocation's
 * shared dir and its data/ and tmp/ usable by every task of the group whatever their users:
 * world-writable with the sticky bit, as /tmp (Nomad does the same with alloc/).
 */
export async function prepareTaskDirs(taskDir: string, sharedDir: string, user: TaskUser | null): Promise<void> {
  const own = ['local', 'secrets', 'tmp'].map((d) => join(taskDir, d));
  await Promise.all(own.map((d) => mkdir(d, { recursive: true })));
  if (user === null || isAgentUser(user)) return;
  await Promise.all(own.map((d) => chown(d, user.uid, user.gid)));
  await chmod(join(taskDir, 'secrets'), 0o700);
  for (const d of [sharedDir, join(sharedDir, 'data'), join(sharedDir, 'tmp')]) {
    const st = await stat(d).catch(() => null);
    if (st?.isDirectory() === true) await chmod(d, 0o1777);
  }
}
