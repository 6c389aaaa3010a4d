/** Wire shapes of Nomad's scaling and deployment endpoints (api/scaling.go, api/deployments.go). */

/** Nomad's ScalingRequest: `Count` null records an event without changing the count. */
export interface ScalingRequest {
  Count: number | null;
  Target: { Job?: string; Group: string; Namespace?: string };
  Message: string;
  Error: boolean;
  Meta?: Record<string, unknown>;
  PolicyOverride?: boolean;
}

export interface TaskGroupScaleStatus {
  Desired: number;
  Placed: number;
  Running: number;
  Healthy: number;
  Unhealthy: number;
  Events: unknown[] | null;
}

/** Nomad's JobScaleStatusResponse. */
export interface JobScaleStatus {
  JobID: string;
  Namespace: string;
  JobCreateIndex: number;
  JobModifyIndex: number;
  JobStopped: boolean;
  TaskGroups: Record<string, TaskGroupScaleStatus>;
}

/** A deployment as the API returns it (one shape with the servers': structs/deployment.ts). */
export type { Deployment } from '../structs/deployment.js';
