/**
 * Resource usage of an allocation in Nomad's API shape (`GET /v1/client/allocation/:id/stats`
 * returns an AllocResourceUsage), built from the drivers' per-task samples. Nomad's CPU
 * "ticks" are MHz: a task using 50% of one core on a 2000 MHz host uses 1000 ticks.
 */
import type { TaskStats } from '../../drivers/driver.js';

export interface MemoryStats {
  RSS: number;
  Cache: number;
  Swap: number;
  Usage: number;
  MaxUsage: number;
  KernelUsage: number;
  KernelMaxUsage: number;
  /** Which of the fields above the driver actually measured. */
  Measured: string[];
}

export interface CpuStats {
  SystemMode: number;
  UserMode: number;
  TotalTicks: number;
  ThrottledPeriods: number;
  ThrottledTime: number;
  /** Percent of one core (a task busy on two cores reads 200), as Nomad reports it. */
  Percent: number;
  Measured: string[];
}

export interface ResourceUsage {
  MemoryStats: MemoryStats;
  CpuStats: CpuStats;
  DeviceStats: unknown[];
}

export interface TaskResourceUsage {
  ResourceUsage: ResourceUsage;
  /** Unix nanoseconds. */
  Timestamp: number;
  Pids: null;
}

export interface AllocResourceUsage {
  /** The sum over the allocation's running tasks. */
  ResourceUsage: ResourceUsage;
  Tasks: Record<string, TaskResourceUsage>;
  /** Unix nanoseconds: the newest task sample. */
  Timestamp: number;
}

const MEASURED_MEMORY = ['RSS'];
const MEASURED_CPU = ['Percent', 'Total Ticks'];

function usage(rss: number, percent: number, mhzPerCore: number): ResourceUsage {
  return {
    MemoryStats: { RSS: rss, Cache: 0, Swap: 0, Usage: rss, MaxUsage: 0, KernelUsage: 0, KernelMaxUsage: 0, Measured: MEASURED_MEMORY },
    CpuStats: { SystemMode: 0, UserMode: 0, TotalTicks: (percent / 100) * mhzPerCore, ThrottledPeriods: 0, ThrottledTime: 0, Percent: percent, Measured: MEASURED_CPU },
    DeviceStats: [],
  };
}

/** @param samples per task name; null for a task not running (left out, as Nomad does). */
export function allocResourceUsage(samples: Record<string, TaskStats | null>, mhzPerCore: number, nowMs = Date.now()): AllocResourceUsage {
  const tasks: Record<string, TaskResourceUsage> = {};
  let rss = 0;
  let percent = 0;
  let newest = 0;
  for (const [name, s] of Object.entries(samples)) {
    if (s === null) continue;
    tasks[name] = { ResourceUsage: usage(s.memoryRssBytes, s.cpuPercent, mhzPerCore), Timestamp: s.timestamp * 1e6, Pids: null };
    rss += s.memoryRssBytes;
    percent += s.cpuPercent;
    newest = Math.max(newest, s.timestamp);
  }
  return { ResourceUsage: usage(rss, percent, mhzPerCore), Tasks: tasks, Timestamp: (newest || nowMs) * 1e6 };
}
