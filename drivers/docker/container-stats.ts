/**
 * TaskStats from the engine's one-shot container stats. CPU is the container's cumulative
 * CPU time (cgroup cpuacct), turned into a percentage between two samples the driver keeps
 * (percent of one core, as `top` and the process drivers report it); memory is the resident
 * set: cgroup v1 reports `rss`, cgroup v2 has `anon`; failing both, usage less page cache.
 */
import type Dockerode from 'dockerode';
import type { TaskStats } from '../driver.js';

export interface CpuSample {
  cpuNs: number;
  at: number;
}

export function memoryRss(m: Dockerode.MemoryStats | undefined): number {
  if (m === undefined) return 0;
  const s = (m.stats ?? {}) as Partial<Record<string, number>>;
  const rss = s['rss'] ?? s['anon'];
  if (typeof rss === 'number') return rss;
  const cache = s['cache'] ?? s['inactive_file'] ?? 0;
  return Math.max(0, (m.usage ?? 0) - cache);
}

/** One stats reading; `prev` is the driver's previous sample for the task (or its start). */
export function taskStats(raw: Dockerode.ContainerStats, prev: CpuSample, now: number): { stats: TaskStats; sample: CpuSample } {
  const cpuNs = raw.cpu_stats?.cpu_usage?.total_usage ?? 0;
  const wallNs = Math.max(1, now - prev.at) * 1e6;
  const cpuPercent = Math.max(0, ((cpuNs - prev.cpuNs) / wallNs) * 100);
  return {
    stats: { timestamp: now, cpuPercent, memoryRssBytes: memoryRss(raw.memory_stats) },
    sample: { cpuNs, at: now },
  };
}
