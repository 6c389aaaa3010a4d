/**
 * Reading and writing cgroup interface files, and the limits a task asks for, in the
 * units of both cgroup versions.
 */
import { access, readFile, rmdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { YurtError } from '../../structs/errors.js';

/** A task's limits, already resolved from its resources (see `taskLimits`). */
export interface TaskLimits {
  /** Hard memory limit in bytes; 0 for none. */
  memoryHardBytes: number;
  /** Soft limit (reclaim target under pressure) in bytes; 0 for none. */
  memorySoftBytes: number;
  /** CPU MHz the task asked for, used as v1 cpu.shares (Nomad's mapping). */
  cpuShares: number;
  /** Maximum number of processes/threads; 0 for no limit. */
  pidsLimit: number;
  /** CPU cores reserved for the task (`resources.cores`); empty to share all. */
  cpus: number[];
}

const MB = 1024 * 1024;

/**
 * Nomad's memory rules: the hard limit is MemoryMB, or MemoryMaxMB when the task
 * oversubscribes (`memory_max`), in which case MemoryMB becomes the soft limit.
 */
export function taskLimits(r: { memoryMB: number; memoryMaxMB: number; cpuShares: number; pidsLimit: number; cpus: number[] }): TaskLimits {
  const oversubscribed = r.memoryMaxMB > r.memoryMB && r.memoryMB > 0;
  return {
    memoryHardBytes: (oversubscribed ? r.memoryMaxMB : r.memoryMB) * MB,
    memorySoftBytes: oversubscribed ? r.memoryMB * MB : 0,
    cpuShares: r.cpuShares,
    pidsLimit: r.pidsLimit,
    cpus: r.cpus,
  };
}

/** v1 cpu.shares accepts 2..262144. */
export function v1Shares(mhz: number): number {
  return Math.min(262144, Math.max(2, Math.round(mhz)));
}

/** v2 cpu.weight (1..10000) from v1 shares, with the conversion runc and systemd use. */
export function v2Weight(shares: number): number {
  const s = v1Shares(shares);
  return 1 + Math.floor(((s - 2) * 9999) / 262142);
}

/** "0-3,6" for cpuset.cpus. */
export function cpuList(cpus: number[]): string {
  return [...new Set(cpus)].sort((a, b) => a - b).join(',');
}

export async function writeControl(dir: string, file: string, value: string): Promise<void> {
  try {
    await writeFile(join(dir, file), value);
  } catch (e) {
    throw new YurtError('internal', `cannot write ${value.trim()} to ${join(dir, file)}: ${(e as Error).message}`, { cause: e });
  }
}

export async function readControl(dir: string, file: string): Promise<string | null> {
  try {
    return await readFile(join(dir, file), 'utf8');
  } catch {
    return null;
  }
}

export async function hasControl(dir: string, file: string): Promise<boolean> {
  return access(join(dir, file)).then(
    () => true,
    () => false,
  );
}

/** Pids listed in a cgroup.procs file. */
export async function readProcs(dir: string): Promise<number[]> {
  const text = await readControl(dir, 'cgroup.procs');
  if (text === null) return [];
  return text.split('\n').filter((l) => l !== '').map(Number);
}

/** A "key value" line of memory.stat, memory.events, cpu.stat, memory.oom_control. */
export function statField(text: string | null, key: string): number | null {
  if (text === null) return null;
  const m = new RegExp(`^${key} (\\d+)$`, 'm').exec(text);
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

/**
 * rmdir a cgroup. The kernel refuses (EBUSY) while exiting processes are still being torn
 * down, so retry for a while; a directory that is already gone counts as removed.
 */
export async function removeCgroupDir(dir: string, waitMs = 2000): Promise<void> {
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      await rmdir(dir);
      return;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY' || Date.now() > deadline) {
        throw new YurtError('internal', `cannot remove cgroup ${dir}: ${(e as Error).message}`, { cause: e });
      }
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
