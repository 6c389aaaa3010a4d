/**
 * What a ranked node hands out: the ports and devices decided while ranking it (only for groups
 * that ask for them), and, for the winner only, the option with its allocated resources.
 */
import type { Allocation } from '../structs/alloc.js';
import type { AllocMetric } from '../structs/eval.js';
import type { TaskGroup } from '../structs/job.js';
import type { Node } from '../structs/node.js';
import type { AllocatedDeviceResource, AllocatedResources } from '../structs/resources.js';
import { assignDevices, usedDeviceIds } from './devices.js';
import { exhausted } from './placement-metric.js';
import { assignGroupPorts, usedPorts, type AssignedNetworks } from './ports.js';

export interface RankedOption {
  node: Node;
  resources: AllocatedResources;
  scores: Record<string, number>;
  score: number;
}

/** Ports and devices a node would hand out, decided while ranking it (only for groups that ask for them). */
export interface Extras {
  ports: AssignedNetworks;
  devices: Record<string, AllocatedDeviceResource[]> | null;
  deviceScore: number;
}

export const NO_EXTRAS: Extras = { ports: { networks: [], ports: [] }, devices: null, deviceScore: 0 };

/** Ports, then devices, in Nomad's order; null (and the exhausted dimension counted) when either runs out. */
export function assignExtras(tg: TaskGroup, node: Node, proposed: readonly Allocation[], wantsDevices: boolean, metric: AllocMetric, random: () => number): Extras | null {
  const ports = assignGroupPorts(tg, node, tg.Networks.length > 0 ? usedPorts(node, proposed) : new Set(), random);
  if (!ports.ok) {
    exhausted(metric, node, `network: ${ports.reason}`);
    return null;
  }
  if (!wantsDevices) return { ports: ports.value, devices: null, deviceScore: 0 };
  const devs = assignDevices(tg, node, usedDeviceIds(proposed));
  if (!devs.ok) {
    exhausted(metric, node, `devices: ${devs.reason}`);
    return null;
  }
  return { ports: ports.value, devices: devs.byTask, deviceScore: devs.hasAffinities ? devs.score : 0 };
}

/** The winner as an option the scheduler turns into an allocation: its resources are built here, once. */
export function rankedOption(tg: TaskGroup, node: Node, extras: Extras, scores: Record<string, number>, score: number): RankedOption {
  const tasks: AllocatedResources['Tasks'] = {};
  for (const t of tg.Tasks) {
    tasks[t.Name] = {
      Cpu: { CpuShares: t.Resources.CPU, ReservedCores: [] },
      Memory: { MemoryMB: t.Resources.MemoryMB, MemoryMaxMB: t.Resources.MemoryMaxMB },
      Networks: [],
      Devices: extras.devices?.[t.Name] ?? [],
    };
  }
  return {
    node,
    resources: { Tasks: tasks, Shared: { DiskMB: tg.EphemeralDisk?.SizeMB ?? 0, Networks: extras.ports.networks, Ports: extras.ports.ports } },
    scores,
    score,
  };
}
