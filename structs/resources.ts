/**
 * Resources asked for by tasks, offered by nodes, and allocated to allocations, in Nomad's
 * API shapes (CPU in MHz, memory and disk in MB).
 */
import type { Constraint, Affinity } from './constraint.js';

export interface Port {
  Label: string;
  /** Host port; 0 for a dynamic port not yet assigned. */
  Value: number;
  /** Port inside the task's network namespace; 0 means same as Value. */
  To: number;
  HostNetwork: string;
}

export interface NetworkResource {
  Mode: string;
  Device: string;
  CIDR: string;
  IP: string;
  MBits: number;
  ReservedPorts: Port[];
  DynamicPorts: Port[];
}

export interface RequestedDevice {
  /** `type`, `vendor/type` or `vendor/type/model`, e.g. `nvidia/gpu`. */
  Name: string;
  Count: number;
  Constraints: Constraint[];
  Affinities: Affinity[];
}

export interface Resources {
  CPU: number;
  Cores: number;
  MemoryMB: number;
  MemoryMaxMB: number;
  DiskMB: number;
  Networks: NetworkResource[];
  Devices: RequestedDevice[];
}

/** One device instance a node offers (a GPU), addressed by its ID (the UUID for NVIDIA). */
export interface NodeDeviceInstance {
  ID: string;
  Healthy: boolean;
  HealthDescription: string;
  Locality?: { PciBusID: string };
}

/** A group of identical devices on a node: vendor/type/name plus typed attributes. */
export interface NodeDeviceResource {
  Vendor: string;
  Type: string;
  Name: string;
  Instances: NodeDeviceInstance[];
  /** Attribute values as strings with units where they have one ("81559 MiB"). */
  Attributes: Record<string, string>;
}

export interface NodeResources {
  Cpu: { CpuShares: number; TotalCpuCores: number; ReservableCpuCores: number[] };
  Memory: { MemoryMB: number };
  Disk: { DiskMB: number };
  Networks: NetworkResource[];
  Devices: NodeDeviceResource[];
  MinDynamicPort: number;
  MaxDynamicPort: number;
}

export interface NodeReservedResources {
  Cpu: { CpuShares: number; ReservedCpuCores: number[] };
  Memory: { MemoryMB: number };
  Disk: { DiskMB: number };
  Networks: { ReservedHostPorts: string };
}

export interface AllocatedDeviceResource {
  Vendor: string;
  Type: string;
  Name: string;
  DeviceIDs: string[];
}

/** An allocated device group of NVIDIA GPUs (whose DeviceIDs are GPU UUIDs). */
export function isNvidiaGpu(d: AllocatedDeviceResource): boolean {
  return d.Vendor === 'nvidia' && d.Type === 'gpu';
}

/** The UUIDs of the NVIDIA GPUs among a task's allocated devices, in allocation order. */
export function nvidiaGpuIds(devices: readonly AllocatedDeviceResource[]): string[] {
  return devices.filter(isNvidiaGpu).flatMap((d) => d.DeviceIDs);
}

export interface AllocatedTaskResources {
  Cpu: { CpuShares: number; ReservedCores: number[] };
  Memory: { MemoryMB: number; MemoryMaxMB: number };
  Networks: NetworkResource[];
  Devices: AllocatedDeviceResource[];
}

export interface AllocatedPortMapping {
  Label: string;
  Value: number;
  To: number;
  HostIP: string;
}

export interface AllocatedResources {
  Tasks: Record<string, AllocatedTaskResources>;
  Shared: { DiskMB: number; Networks: NetworkResource[]; Ports: AllocatedPortMapping[] };
}

/** Nomad's default task resources when a task has no `resources` block. */
export const DEFAULT_TASK_CPU_MHZ = 100;
export const DEFAULT_TASK_MEMORY_MB = 300;
/** Nomad's default dynamic port range. */
export const DEFAULT_MIN_DYNAMIC_PORT = 20000;
export const DEFAULT_MAX_DYNAMIC_PORT = 32000;

export function emptyResources(): Resources {
  return { CPU: 0, Cores: 0, MemoryMB: 0, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] };
}
