/**
 * The on-disk layout of an allocation, as Nomad lays it out so job authors' paths carry over:
 *   <data_dir>/alloc/<alloc_id>/alloc/{data,logs,tmp}   shared by the group's tasks (NOMAD_ALLOC_DIR)
 *   <data_dir>/alloc/<alloc_id>/<task>/{local,secrets,tmp}   one per task (NOMAD_TASK_DIR = local)
 * Task logs go to alloc/logs/<task>.stdout.0 and <task>.stderr.0.
 */
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { YurtError } from '../../structs/errors.js';

export class AllocDir {
  readonly root: string;

  constructor(
    allocsRoot: string,
    readonly allocId: string,
  ) {
    // Alloc IDs come from the server; refuse anything that could escape the data dir.
    if (!/^[A-Za-z0-9-]+$/.test(allocId)) throw new YurtError('invalid_argument', `invalid allocation id ${JSON.stringify(allocId)}`);
    this.root = join(allocsRoot, allocId);
  }

  get sharedDir(): string {
    return join(this.root, 'alloc');
  }

  get logsDir(): string {
    return join(this.root, 'alloc', 'logs');
  }

  taskDir(task: string): string {
    return join(this.root, safeName(task));
  }

  logPath(task: string, stream: 'stdout' | 'stderr', index = 0): string {
    return join(this.logsDir, `${this.logBase(task, stream)}.${index}`);
  }

  /** A log's file name without its index: `<task>.<stream>`. */
  logBase(task: string, stream: 'stdout' | 'stderr'): string {
    return `${safeName(task)}.${stream}`;
  }

  async build(tasks: string[]): Promise<void> {
    await Promise.all(['data', 'logs', 'tmp'].map((d) => mkdir(join(this.sharedDir, d), { recursive: true })));
    for (const t of tasks) {
      await Promise.all(['local', 'secrets', 'tmp'].map((d) => mkdir(join(this.taskDir(t), d), { recursive: true })));
    }
  }

  async destroy(): Promise<void> {
    await rm(this.root, { recursive: true, force: true });
  }
}

function safeName(name: string): string {
  if (name === '' || name.includes('/') || name === '.' || name === '..') throw new YurtError('invalid_argument', `invalid task name ${JSON.stringify(name)}`);
  return name;
}
