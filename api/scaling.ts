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

/** The Deployment fields clients read; yurt does not create deployments yet. */
export interface Deployment {
  ID: string;
  Namespace: string;
  JobID: string;
  JobVersion?: number;
  Status: string;
  StatusDescription?: string;
  CreateIndex: number;
  ModifyIndex: number;
}
