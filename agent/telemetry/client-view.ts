/**
 * Adapts a client agent to the source telemetry samples (ClientMetricsSource): node usage from
 * the fingerprinted node and the allocations it runs, per-task usage from the drivers through
 * the client's allocation stats (Nomad's AllocResourceUsage, as GET
 * /v1/client/allocation/:id/stats returns it).
 */
import { allocatedVector, nodeCapacity, ZERO, add } from '../../scheduler/bin-pack.js';
import { TaskEventType, type Allocation, type AllocClientStatus, type TaskState } from '../../structs/alloc.js';
import type { Node } from '../../structs/node.js';
import type { AllocUsage, ClientMetricsSource, NodeUsage, TaskUsage } from './metric-sources.js';

/** The part of Nomad's AllocResourceUsage that telemetry reads. */
export interface AllocStatsLike {
  Tasks: Record<string, { ResourceUsage: { CpuStats: { Percent: number }; MemoryStats: { RSS: number } } } | undefined>;
}

export interface LiveAlloc {
  alloc: Allocation;
  clientStatus: AllocClientStatus;
  taskStates: Record<string, TaskState>;
}

/** What the adapter needs from the client. */
export interface MeteredClient {
  /** The node as last fingerprinted; null before the first fingerprint. */
  currentNode(): Node | null;
  /** Allocations this client runs and has not finished (pending or running). */
  liveAllocs(): LiveAlloc[];
  /** Current usage of an allocation's tasks; null when the allocation is gone. */
  allocStats(allocId: string): Promise<AllocStatsLike | null>;
}

export function clientMetricsSource(client: MeteredClient): ClientMetricsSource {
  return {
    nodeUsage: () => nodeUsageOf(client.currentNode(), client.liveAllocs()),
    allocUsage: async () => {
      const out: AllocUsage[] = [];
      for (const live of client.liveAllocs()) {
        // One allocation whose driver cannot answer must not hide the others.
        const stats = await client.allocStats(live.alloc.ID).catch(() => null);
        out.push(allocUsageOf(live, stats));
      }
      return out;
    },
  };
}

export function nodeUsageOf(node: Node | null, live: LiveAlloc[]): NodeUsage | null {
  if (!node) return null;
  let allocated = ZERO;
  for (const l of live) allocated = add(allocated, allocatedVector(l.alloc.AllocatedResources));
  return {
    labels: { node_id: node.ID, datacenter: node.Datacenter, node_class: node.NodeClass, node_pool: node.NodePool },
    allocated,
    capacity: nodeCapacity(node),
    running: live.filter((l) => l.clientStatus === 'running').length,
    pending: live.filter((l) => l.clientStatus === 'pending').length,
  };
}

export function allocUsageOf(live: LiveAlloc, stats: AllocStatsLike | null): AllocUsage {
  const a = live.alloc;
  const tasks: TaskUsage[] = Object.entries(a.AllocatedResources.Tasks).map(([task, res]) => {
    const state = live.taskStates[task];
    const usage = stats?.Tasks[task]?.ResourceUsage;
    return {
      task,
      cpuPercent: usage ? usage.CpuStats.Percent : null,
      memoryRssBytes: usage ? usage.MemoryStats.RSS : null,
      cpuAllocatedMHz: res.Cpu.CpuShares,
      memoryAllocatedBytes: res.Memory.MemoryMB * 1024 * 1024,
      restarts: state?.Restarts ?? 0,
      // The task's events are the record of its OOM kills (task-runner.ts emits one per kill).
      oomKills: state?.Events.filter((e) => e.Type === TaskEventType.OOMKilled).length ?? 0,
    };
  });
  return { allocId: a.ID, namespace: a.Namespace, job: a.JobID, taskGroup: a.TaskGroup, tasks };
}
