/**
 * Client nodes as the servers know them, in Nomad's API shape. Attributes use Nomad's names
 * (`kernel.name`, `cpu.arch`, `driver.exec`, ...) without the `attr.` prefix, exactly as
 * Nomad stores them, so `${attr.kernel.name}` constraints resolve the same way.
 */
import type { NodeResources, NodeReservedResources } from './resources.js';

export type NodeStatus = 'initializing' | 'ready' | 'down' | 'disconnected';
export type SchedulingEligibility = 'eligible' | 'ineligible';

export interface DriverInfo {
  Detected: boolean;
  Healthy: boolean;
  HealthDescription: string;
  Attributes: Record<string, string>;
  /** Unix nanoseconds. */
  UpdateTime: number;
}

export interface DrainStrategy {
  /** Nanoseconds; -1 means force (no deadline), 0 means no deadline. */
  Deadline: number;
  IgnoreSystemJobs: boolean;
  /** Unix nanoseconds at which the drain must end; 0 when none. */
  ForceDeadline: number;
  StartedAt: number;
}

export interface NodeEvent {
  Message: string;
  Subsystem: string;
  Details: Record<string, string>;
  /** Unix nanoseconds. */
  Timestamp: number;
  CreateIndex: number;
}

/** A `host_volume` from the client's config, as Nomad reports it on the node (ClientHostVolumeConfig). */
export interface ClientHostVolumeConfig {
  Name: string;
  Path: string;
  ReadOnly: boolean;
}

export interface Node {
  ID: string;
  /** Secret the client proves itself with; never returned by the HTTP API. */
  SecretID: string;
  Datacenter: string;
  Name: string;
  /** host:port of the client's HTTP API, for log streaming and exec. */
  HTTPAddr: string;
  TLSEnabled: boolean;
  Attributes: Record<string, string>;
  NodeResources: NodeResources;
  ReservedResources: NodeReservedResources;
  Meta: Record<string, string>;
  NodeClass: string;
  NodePool: string;
  ComputedClass: string;
  Drain: boolean;
  DrainStrategy: DrainStrategy | null;
  SchedulingEligibility: SchedulingEligibility;
  Status: NodeStatus;
  StatusDescription: string;
  /** Unix seconds, as Nomad reports it. */
  StatusUpdatedAt: number;
  Events: NodeEvent[];
  Drivers: Record<string, DriverInfo>;
  /** Host volumes this client offers, by name; absent on nodes that declare none. */
  HostVolumes?: Record<string, ClientHostVolumeConfig>;
  CreateIndex: number;
  ModifyIndex: number;
}

/** One row of GET /v1/nodes (Nomad's NodeListStub). */
export interface NodeListStub {
  ID: string;
  Datacenter: string;
  Name: string;
  Address: string;
  NodeClass: string;
  NodePool: string;
  Version: string;
  Drain: boolean;
  SchedulingEligibility: SchedulingEligibility;
  Status: NodeStatus;
  StatusDescription: string;
  Drivers: Record<string, DriverInfo>;
  CreateIndex: number;
  ModifyIndex: number;
}

export function isNodeSchedulable(n: Node): boolean {
  return n.Status === 'ready' && n.SchedulingEligibility === 'eligible' && !n.Drain;
}
