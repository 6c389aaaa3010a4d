/**
 * A task's cgroup on a v2 (unified) host: one directory under a root-level parent. Limits:
 * memory.max, memory.low (soft), memory.swap.max = 0, cpu.weight, pids.max, cpuset.cpus.
 * Kill-all uses cgroup.kill (Linux 5.14+) or, before that, cgroup.freeze + SIGKILL.
 * Source: the kernel's Documentation/admin-guide/cgroup-v2.rst.
 */
import { mkdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { YurtError } from '../../structs/errors.js';
import type { ResourceUsage, TaskIsolation } from '../process/isolation.js';
import { sendSignal } from '../process/signals.js';
import type { CgroupV2Host } from './cgroup-host.js';
import {
  cpuList,
  hasControl,
  readControl,
  readProcs,
  removeCgroupDir,
  sleep,
  statField,
  v2Weight,
  writeControl,
  type TaskLimits,
} from './cgroup-files.js';

/** Root-level parent of task groups: v2 allows no controllers below a group that has processes. */
export function v2ParentDir(host: CgroupV2Host, parent: string): string {
  return join(host.mountPoint, parent);
}

/**
 * Enable the controllers a task group needs in every group from the mount root down to
 * `parentDir` (a controller is usable in a group only if its parent delegates it).
 */
async function delegateControllers(host: CgroupV2Host, parentDir: string, wantCpuset: boolean): Promise<void> {
  const wanted = ['memory', 'cpu', 'pids', ...(wantCpuset ? ['cpuset'] : [])];
  const missing = wanted.filter((c) => !host.controllers.includes(c));
  if (missing.length > 0) throw new YurtError('unavailable', `cgroup v2 lacks controllers: ${missing.join(', ')}`);
  await mkdir(parentDir, { recursive: true });
  const steps = relative(host.mountPoint, parentDir).split('/').filter((s) => s !== '');
  let dir = host.mountPoint;
  for (const step of [...steps, null]) {
    const enabled = ((await readControl(dir, 'cgroup.subtree_control')) ?? '').split(/\s+/);
    const add = wanted.filter((c) => !enabled.includes(c));
    if (add.length > 0) await writeControl(dir, 'cgroup.subtree_control', add.map((c) => `+${c}`).join(' '));
    if (step === null) break;
    dir = join(dir, step);
  }
}

export class V2TaskCgroup implements TaskIsolation {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  static async create(host: CgroupV2Host, parent: string, name: string, limits: TaskLimits): Promise<V2TaskCgroup> {
    const parentDir = v2ParentDir(host, parent);
    await delegateControllers(host, parentDir, limits.cpus.length > 0);
    const cg = new V2TaskCgroup(join(parentDir, name));
    try {
      await mkdir(cg.dir);
      await cg.applyLimits(limits);
    } catch (e) {
      await cg.release().catch(() => undefined);
      throw e;
    }
    return cg;
  }

  static fromState(state: Record<string, unknown>): V2TaskCgroup {
    const dir = state['dir'];
    if (typeof dir !== 'string' || !dir.startsWith('/')) {
      throw new YurtError('invalid_argument', 'task handle state: isolation.dir must be an absolute path');
    }
    return new V2TaskCgroup(dir);
  }

  get joinFiles(): string[] {
    return [join(this.dir, 'cgroup.procs')];
  }

  toState(): Record<string, unknown> {
    return { cgroupVersion: 2, dir: this.dir };
  }

  async killAll(): Promise<void> {
    if (!(await hasControl(this.dir, 'cgroup.procs'))) return;
    if (await hasControl(this.dir, 'cgroup.kill')) {
      await writeControl(this.dir, 'cgroup.kill', '1');
    } else {
      await writeControl(this.dir, 'cgroup.freeze', '1');
      for (const pid of await readProcs(this.dir)) sendSignal(pid, 'SIGKILL');
      await writeControl(this.dir, 'cgroup.freeze', '0');
    }
    for (let i = 0; i < 200 && (await readProcs(this.dir)).length > 0; i++) await sleep(10);
  }

  async oomKilled(): Promise<boolean> {
    return (statField(await readControl(this.dir, 'memory.events'), 'oom_kill') ?? 0) > 0;
  }

  async usage(): Promise<ResourceUsage | null> {
    const [cpu, mem] = await Promise.all([readControl(this.dir, 'cpu.stat'), readControl(this.dir, 'memory.stat')]);
    const usec = statField(cpu, 'usage_usec');
    if (usec === null || mem === null) return null;
    return { cpuNs: usec * 1000, rssBytes: statField(mem, 'anon') ?? 0 };
  }

  async release(): Promise<void> {
    await removeCgroupDir(this.dir);
  }

  private async applyLimits(l: TaskLimits): Promise<void> {
    if (l.memoryHardBytes > 0) {
      await writeControl(this.dir, 'memory.max', String(l.memoryHardBytes));
      if (await hasControl(this.dir, 'memory.swap.max')) await writeControl(this.dir, 'memory.swap.max', '0');
    }
    if (l.memorySoftBytes > 0) await writeControl(this.dir, 'memory.low', String(l.memorySoftBytes));
    await writeControl(this.dir, 'cpu.weight', String(v2Weight(l.cpuShares)));
    await writeControl(this.dir, 'pids.max', l.pidsLimit > 0 ? String(l.pidsLimit) : 'max');
    if (l.cpus.length > 0) await writeControl(this.dir, 'cpuset.cpus', cpuList(l.cpus));
  }
}
