/**
 * A task's cgroup on a v1 host: one directory per controller hierarchy (co-mounted
 * controllers such as cpu,cpuacct share one). Limits: memory.limit_in_bytes (+ memsw so the
 * task cannot escape into swap), memory.soft_limit_in_bytes, cpu.shares, pids.max, and
 * cpuset.cpus for reserved cores. Kill-all freezes the group first so nothing can fork
 * while it is being killed. Source: the kernel's Documentation/admin-guide/cgroup-v1/.
 */
import { mkdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { YurtError } from '../../structs/errors.js';
import type { ResourceUsage, TaskIsolation } from '../process/isolation.js';
import { sendSignal } from '../process/signals.js';
import type { CgroupV1Host } from './cgroup-host.js';
import {
  cpuList,
  hasControl,
  readControl,
  readProcs,
  removeCgroupDir,
  sleep,
  statField,
  v1Shares,
  writeControl,
  type TaskLimits,
} from './cgroup-files.js';

/** Where a v1 task group goes: under `parent` inside the agent's own cgroup, or at an absolute path. */
export function v1ParentDir(host: CgroupV1Host, controller: string, parent: string): string {
  const own = host.own[controller];
  const mount = host.mounts[controller];
  if (own === undefined || mount === undefined) throw new YurtError('internal', `no v1 hierarchy for ${controller}`);
  return parent.startsWith('/') ? join(mount, parent) : join(own, parent);
}

export class V1TaskCgroup implements TaskIsolation {
  /** Controller → the task's directory in that controller's hierarchy. */
  readonly dirs: Record<string, string>;

  constructor(dirs: Record<string, string>) {
    this.dirs = dirs;
  }

  static async create(host: CgroupV1Host, parent: string, name: string, limits: TaskLimits): Promise<V1TaskCgroup> {
    const controllers = ['memory', 'cpu', 'pids', 'freezer'];
    if (host.own['cpuacct'] !== undefined) controllers.push('cpuacct');
    if (limits.cpus.length > 0) {
      if (host.own['cpuset'] === undefined) throw new YurtError('unavailable', 'reserved cores need the cpuset controller, which is not mounted');
      controllers.push('cpuset');
    }
    const dirs: Record<string, string> = {};
    for (const c of controllers) dirs[c] = join(v1ParentDir(host, c, parent), name);
    const cg = new V1TaskCgroup(dirs);
    try {
      for (const d of cg.uniqueDirs()) await mkdir(d, { recursive: true });
      await cg.applyLimits(limits);
    } catch (e) {
      await cg.release().catch(() => undefined);
      throw e;
    }
    return cg;
  }

  static fromState(state: Record<string, unknown>): V1TaskCgroup {
    const dirs = state['dirs'];
    if (typeof dirs !== 'object' || dirs === null || Array.isArray(dirs)) {
      throw new YurtError('invalid_argument', 'task handle state: isolation.dirs must be an object');
    }
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(dirs)) {
      if (typeof v !== 'string' || !v.startsWith('/')) {
        throw new YurtError('invalid_argument', `task handle state: isolation.dirs.${k} must be an absolute path`);
      }
      out[k] = v;
    }
    if (out['memory'] === undefined || out['freezer'] === undefined) {
      throw new YurtError('invalid_argument', 'task handle state: isolation.dirs needs memory and freezer');
    }
    return new V1TaskCgroup(out);
  }

  get joinFiles(): string[] {
    return this.uniqueDirs().map((d) => join(d, 'cgroup.procs'));
  }

  toState(): Record<string, unknown> {
    return { cgroupVersion: 1, dirs: { ...this.dirs } };
  }

  async killAll(): Promise<void> {
    const freezer = this.dirs['freezer'];
    if (freezer === undefined || !(await hasControl(freezer, 'freezer.state'))) return;
    // Frozen processes cannot fork, so the list read below is complete; they die as soon as
    // they are thawed, with the SIGKILL already pending.
    await writeControl(freezer, 'freezer.state', 'FROZEN');
    for (let i = 0; i < 100; i++) {
      if ((await readControl(freezer, 'freezer.state'))?.trim() === 'FROZEN') break;
      await sleep(5);
    }
    for (const pid of await readProcs(freezer)) sendSignal(pid, 'SIGKILL');
    await writeControl(freezer, 'freezer.state', 'THAWED');
    for (let i = 0; i < 200 && (await readProcs(freezer)).length > 0; i++) await sleep(10);
  }

  async oomKilled(): Promise<boolean> {
    const mem = this.dirs['memory'];
    if (mem === undefined) return false;
    // "oom_kill N" counts the OOM killer's victims in this group (Linux 4.13+).
    return (statField(await readControl(mem, 'memory.oom_control'), 'oom_kill') ?? 0) > 0;
  }

  async usage(): Promise<ResourceUsage | null> {
    const mem = this.dirs['memory'];
    const acct = this.dirs['cpuacct'];
    if (mem === undefined || acct === undefined) return null;
    const [stat, cpu] = await Promise.all([readControl(mem, 'memory.stat'), readControl(acct, 'cpuacct.usage')]);
    if (stat === null || cpu === null) return null;
    return { cpuNs: Number(cpu.trim()), rssBytes: statField(stat, 'total_rss') ?? statField(stat, 'rss') ?? 0 };
  }

  async release(): Promise<void> {
    for (const d of this.uniqueDirs()) await removeCgroupDir(d);
  }

  private uniqueDirs(): string[] {
    return [...new Set(Object.values(this.dirs))];
  }

  private async applyLimits(l: TaskLimits): Promise<void> {
    const mem = this.dirs['memory'];
    const cpu = this.dirs['cpu'];
    const pids = this.dirs['pids'];
    const cpuset = this.dirs['cpuset'];
    if (mem !== undefined && l.memoryHardBytes > 0) {
      await writeControl(mem, 'memory.limit_in_bytes', String(l.memoryHardBytes));
      // memory+swap equal to memory: no swap on top of the limit. Absent without swap accounting.
      if (await hasControl(mem, 'memory.memsw.limit_in_bytes')) {
        await writeControl(mem, 'memory.memsw.limit_in_bytes', String(l.memoryHardBytes));
      }
      if (l.memorySoftBytes > 0) await writeControl(mem, 'memory.soft_limit_in_bytes', String(l.memorySoftBytes));
    }
    if (cpu !== undefined) await writeControl(cpu, 'cpu.shares', String(v1Shares(l.cpuShares)));
    if (pids !== undefined) await writeControl(pids, 'pids.max', l.pidsLimit > 0 ? String(l.pidsLimit) : 'max');
    if (cpuset !== undefined) {
      // A new v1 cpuset starts with empty cpus/mems and accepts no process until both are
      // set; the intermediate parent is filled from its own parent first.
      const parent = dirname(cpuset);
      const grand = dirname(parent);
      for (const f of ['cpuset.cpus', 'cpuset.mems']) {
        if (((await readControl(parent, f)) ?? '').trim() === '') {
          await writeControl(parent, f, ((await readControl(grand, f)) ?? '').trim());
        }
      }
      await writeControl(cpuset, 'cpuset.cpus', cpuList(l.cpus));
      await writeControl(cpuset, 'cpuset.mems', ((await readControl(parent, 'cpuset.mems')) ?? '').trim());
    }
  }
}
