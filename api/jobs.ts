/** `/v1/jobs` and `/v1/job/:id/...`, like Nomad's `api.Jobs()`. */
import type { AllocListStub } from '../structs/alloc.js';
import type { Evaluation } from '../structs/eval.js';
import type { Job, JobListStub, JobRegisterRequest, JobRegisterResponse, JobSummary } from '../structs/job.js';
import type { HttpApi } from './http.js';
import type {
  JobEvaluateRequest,
  JobEvaluateResponse,
  JobPlanRequest,
  JobPlanResponse,
  JobRevertRequest,
  JobVersionsResponse,
} from './job-plan.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';
import type { Deployment, JobScaleStatus, ScalingRequest } from './scaling.js';

/** Nomad's JobDeregisterResponse. */
export interface JobDeregisterResponse {
  EvalID: string;
  EvalCreateIndex: number;
  JobModifyIndex: number;
  Index?: number;
}

export interface DeregisterOptions extends WriteOptions {
  /** Remove the job from state entirely instead of marking it stopped. */
  purge?: boolean;
}

export function jobPath(id: string, sub = ''): string {
  return `/v1/job/${encodeURIComponent(id)}${sub}`;
}

export class Jobs {
  constructor(private readonly http: HttpApi) {}

  register(job: Job, opts?: WriteOptions & Omit<JobRegisterRequest, 'Job'>): Promise<WriteResult<JobRegisterResponse>> {
    const body: JobRegisterRequest = { Job: job };
    if (opts?.EnforceIndex !== undefined) body.EnforceIndex = opts.EnforceIndex;
    if (opts?.JobModifyIndex !== undefined) body.JobModifyIndex = opts.JobModifyIndex;
    if (opts?.PolicyOverride !== undefined) body.PolicyOverride = opts.PolicyOverride;
    return this.http.write('POST', '/v1/jobs', body, opts);
  }

  list(opts?: QueryOptions): Promise<QueryResult<JobListStub[]>> {
    return this.http.query('/v1/jobs', opts);
  }

  prefixList(prefix: string, opts?: QueryOptions): Promise<QueryResult<JobListStub[]>> {
    return this.list({ ...opts, prefix });
  }

  info(id: string, opts?: QueryOptions): Promise<QueryResult<Job>> {
    return this.http.query(jobPath(id), opts);
  }

  deregister(id: string, opts?: DeregisterOptions): Promise<WriteResult<JobDeregisterResponse>> {
    const params = { ...opts?.params, ...(opts?.purge === true ? { purge: 'true' } : {}) };
    return this.http.write('DELETE', jobPath(id), undefined, { ...opts, params });
  }

  summary(id: string, opts?: QueryOptions): Promise<QueryResult<JobSummary>> {
    return this.http.query(jobPath(id, '/summary'), opts);
  }

  allocations(id: string, opts?: QueryOptions): Promise<QueryResult<AllocListStub[]>> {
    return this.http.query(jobPath(id, '/allocations'), opts);
  }

  evaluations(id: string, opts?: QueryOptions): Promise<QueryResult<Evaluation[]>> {
    return this.http.query(jobPath(id, '/evaluations'), opts);
  }

  /** The scheduler's dry run of `job` against the cluster, with the diff when `diff` is set. */
  plan(job: Job, diff: boolean, opts?: WriteOptions): Promise<WriteResult<JobPlanResponse>> {
    const body: JobPlanRequest = { Job: job, Diff: diff };
    return this.http.write('POST', jobPath(job.ID, '/plan'), body, opts);
  }

  /** Every stored version, newest first; `diffs` asks for the diff between neighbours. */
  versions(id: string, diffs: boolean, opts?: QueryOptions): Promise<QueryResult<JobVersionsResponse>> {
    const params = { ...opts?.params, ...(diffs ? { diffs: 'true' } : {}) };
    return this.http.query(jobPath(id, '/versions'), { ...opts, params });
  }

  /** Registers version `version` of the job again, as a new version. */
  revert(id: string, version: number, opts?: WriteOptions & { enforcePriorVersion?: number }): Promise<WriteResult<JobRegisterResponse>> {
    const body: JobRevertRequest = { JobID: id, JobVersion: version };
    if (opts?.enforcePriorVersion !== undefined) body.EnforcePriorVersion = opts.enforcePriorVersion;
    return this.http.write('POST', jobPath(id, '/revert'), body, opts);
  }

  /** GET /v1/job/:id/scale: each group's desired, placed and running counts. */
  scaleStatus(id: string, opts?: QueryOptions): Promise<QueryResult<JobScaleStatus>> {
    return this.http.query(jobPath(id, '/scale'), opts);
  }

  /** POST /v1/job/:id/scale: set one group's count (a new job version and an evaluation). */
  scale(id: string, group: string, count: number, opts?: WriteOptions & { message?: string }): Promise<WriteResult<JobRegisterResponse>> {
    const body: ScalingRequest = { Count: count, Target: { Job: id, Group: group }, Message: opts?.message ?? '', Error: false };
    return this.http.write('POST', jobPath(id, '/scale'), body, opts);
  }

  /** GET /v1/job/:id/deployments. */
  deployments(id: string, opts?: QueryOptions): Promise<QueryResult<Deployment[]>> {
    return this.http.query(jobPath(id, '/deployments'), opts);
  }

  /** GET /v1/job/:id/deployment: the most recent deployment, or null. */
  latestDeployment(id: string, opts?: QueryOptions): Promise<QueryResult<Deployment | null>> {
    return this.http.query(jobPath(id, '/deployment'), opts);
  }

  /** Creates a new evaluation of the job (POST /v1/job/:id/evaluate). */
  evaluate(id: string, forceReschedule: boolean, opts?: WriteOptions): Promise<WriteResult<JobEvaluateResponse>> {
    const body: JobEvaluateRequest = { JobID: id, EvalOptions: { ForceReschedule: forceReschedule } };
    return this.http.write('POST', jobPath(id, '/evaluate'), body, opts);
  }
}
