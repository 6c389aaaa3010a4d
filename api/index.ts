/**
 * api/: the HTTP client for yurt's Nomad-compatible `/v1` API. It speaks HTTP only and
 * imports nothing of the server (agent/, consensus/, scheduler/, drivers/); the wire types
 * are the shared structs/ types.
 */
export { ApiClient } from './client.js';
export { DEFAULT_ADDRESS, normalizeAddress, resolveClientConfig } from './config.js';
export type { ApiClientConfig, ExplicitConfig } from './config.js';
export { ERROR_CODE_HEADER, codeForStatus, errorFromResponse, isAbortError, transportError } from './http-error.js';
export { HttpApi } from './http.js';
export type { FetchFn, WriteMethod } from './http.js';
export { buildQuery, formatWait, parseQueryMeta } from './query.js';
export type { QueryMeta, QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';
export { Jobs, jobPath } from './jobs.js';
export type { DeregisterOptions, JobDeregisterResponse } from './jobs.js';
export { Allocations } from './allocations.js';
export type { AllocStopResponse } from './allocations.js';
export { Evaluations } from './evaluations.js';
export { Nodes } from './nodes.js';
export type { DrainSpec, NodeUpdateResponse } from './nodes.js';
export { Operator } from './operator.js';
export type {
  PreemptionConfig,
  RaftConfiguration,
  RaftServer,
  SchedulerAlgorithm,
  SchedulerConfiguration,
  SchedulerConfigurationResponse,
  SchedulerSetConfigurationResponse,
} from './operator.js';
export { System } from './system.js';
export type * from './job-plan.js';
export { Agent } from './agent.js';
export type { AgentMember, AgentSelf, ServerMembers } from './agent.js';
export { Status } from './status.js';
export { Logs } from './logs.js';
export type { LogOptions, LogOrigin, LogType } from './logs.js';
export { Deployments } from './deployments.js';
export { Events } from './events.js';
export type { EventBatch, EventStreamOptions, StreamEvent } from './events.js';
export type { Deployment, JobScaleStatus, ScalingRequest, TaskGroupScaleStatus } from './scaling.js';
