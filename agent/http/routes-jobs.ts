/**
 * /v1/jobs and /v1/job/:id — Nomad's job endpoints.
 */
import { allocStub } from '../../structs/alloc.js';
import { YurtError } from '../../structs/errors.js';
import type { Job, JobListStub } from '../../structs/job.js';
import { parseJobJSON, parseJobHCL } from '../../structs/jobspec/index.js';
import { planJob } from '../server/job-plan.js';
import { computeJobSummary } from '../server/job-status.js';
import { nowNs } from '../server/server.js';
import type { ApiContext } from './api-context.js';
import type { RequestContext, Route } from './http-router.js';
import { listPage } from './list-query.js';
import { needServer, namespaceOf, optionalBody } from './route-helpers.js';
import { childrenSummary, evalView, jobView, summaryView } from './wire-views.js';

/** The jobs a periodic or parameterized job launched; their IDs start with "<parent>/". */
function childrenOf(ctx: ApiContext, job: Job): Job[] {
  return needServer(ctx)
    .state.jobs(job.Namespace, `${job.ID}/`)
    .filter((c) => c.ParentID === job.ID);
}

function jobStub(ctx: ApiContext, job: Job): JobListStub {
  const s = needServer(ctx).state;
  return {
    ID: job.ID,
    ParentID: job.ParentID ?? '',
    Name: job.Name,
    Namespace: job.Namespace,
    Datacenters: job.Datacenters,
    NodePool: job.NodePool,
    Type: job.Type,
    Priority: job.Priority,
    Periodic: job.Periodic?.Enabled === true,
    ParameterizedJob: job.ParameterizedJob !== undefined,
    Stop: job.Stop,
    Status: job.Status,
    StatusDescription: job.StatusDescription,
    JobSummary: summaryView(computeJobSummary(job, s.allocsByJob(job.Namespace, job.ID), s.evalsByJob(job.Namespace, job.ID)), childrenSummary(childrenOf(ctx, job))),
    CreateIndex: job.CreateIndex,
    ModifyIndex: job.ModifyIndex,
    JobModifyIndex: job.JobModifyIndex,
    SubmitTime: job.SubmitTime,
  };
}

function getJob(ctx: ApiContext, rc: RequestContext): Job {
  const job = needServer(ctx).state.jobById(namespaceOf(rc), rc.params['id']!);
  if (!job) throw new YurtError('not_found', 'job not found');
  return job;
}

export function jobRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/jobs',
      tables: ['jobs', 'allocs'],
      handler: (rc) => {
        const ns = rc.query.get('namespace') === '*' ? undefined : namespaceOf(rc);
        const jobs = needServer(ctx).state.jobs(ns, rc.query.get('prefix') ?? '');
        // Across namespaces the token must tell equal IDs in different namespaces apart.
        const token = ns === undefined ? (j: Job): string => `${j.Namespace}.${j.ID}` : (j: Job): string => j.ID;
        return { json: listPage(rc, jobs, token, (j) => jobStub(ctx, j)) };
      },
    },
    {
      method: 'POST',
      path: '/v1/jobs',
      handler: async (rc) => {
        const body = await rc.body();
        const job = parseJobJSON(body);
        const ns = rc.query.get('namespace');
        if (ns !== null && ns !== '' && job.Namespace === 'default') job.Namespace = ns;
        if (!ctx.endpoints) throw new YurtError('unavailable', 'this agent is not a server');
        const r = await ctx.endpoints.jobRegister(job);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'POST',
      path: '/v1/jobs/parse',
      handler: async (rc) => {
        const body = (await rc.body()) as { JobHCL?: unknown; Variables?: unknown; Canonicalize?: unknown };
        if (typeof body.JobHCL !== 'string') throw new YurtError('invalid_argument', 'JobHCL must be a string');
        const job = await parseJobHCL(body.JobHCL, { filename: 'input.hcl' });
        return { json: job };
      },
    },
    { method: 'GET', path: '/v1/job/:id', tables: ['jobs'], handler: (rc) => ({ json: jobView(getJob(ctx, rc)) }) },
    {
      method: 'POST',
      path: '/v1/job/:id',
      handler: async (rc) => {
        const job = parseJobJSON(await rc.body());
        if (job.ID !== rc.params['id']) throw new YurtError('invalid_argument', 'Job ID does not match name');
        if (!ctx.endpoints) throw new YurtError('unavailable', 'this agent is not a server');
        const r = await ctx.endpoints.jobRegister(job);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'POST',
      path: '/v1/job/:id/plan',
      handler: async (rc) => {
        const body = await rc.body();
        const job = parseJobJSON(body);
        const ns = rc.query.get('namespace');
        if (ns !== null && ns !== '' && job.Namespace === 'default') job.Namespace = ns;
        if (job.ID !== rc.params['id']) throw new YurtError('invalid_argument', 'Job ID does not match');
        const diff = typeof body === 'object' && body !== null && (body as { Diff?: unknown }).Diff === true;
        const r = await planJob(needServer(ctx).state, job, diff, nowNs);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'DELETE',
      path: '/v1/job/:id',
      handler: async (rc) => {
        if (!ctx.endpoints) throw new YurtError('unavailable', 'this agent is not a server');
        const r = await ctx.endpoints.jobDeregister(namespaceOf(rc), rc.params['id']!, rc.query.get('purge') === 'true');
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/summary',
      tables: ['jobs', 'allocs', 'evals'],
      handler: (rc) => {
        const job = getJob(ctx, rc);
        const s = needServer(ctx).state;
        return { json: summaryView(computeJobSummary(job, s.allocsByJob(job.Namespace, job.ID), s.evalsByJob(job.Namespace, job.ID)), childrenSummary(childrenOf(ctx, job))) };
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/allocations',
      tables: ['allocs'],
      handler: (rc) => {
        const s = needServer(ctx).state;
        const ns = namespaceOf(rc);
        const id = rc.params['id']!;
        if (!s.jobById(ns, id) && s.allocsByJob(ns, id).length === 0) throw new YurtError('not_found', 'job not found');
        return { json: listPage(rc, s.allocsByJob(ns, id), (a) => a.ID, allocStub) };
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/evaluations',
      tables: ['evals'],
      handler: (rc) => ({ json: listPage(rc, needServer(ctx).state.evalsByJob(namespaceOf(rc), rc.params['id']!), (e) => e.ID, evalView) }),
    },
    {
      method: 'POST',
      path: '/v1/job/:id/evaluate',
      handler: async (rc) => {
        if (!ctx.endpoints) throw new YurtError('unavailable', 'this agent is not a server');
        // Nomad's JobEvaluateRequest: {JobID, EvalOptions: {ForceReschedule}}, all optional.
        const body = await optionalBody(rc);
        const opts = body?.['EvalOptions'];
        if (opts !== undefined && opts !== null && (typeof opts !== 'object' || Array.isArray(opts))) throw new YurtError('invalid_argument', 'EvalOptions must be an object');
        const force = (opts as Record<string, unknown> | null | undefined)?.['ForceReschedule'];
        if (force !== undefined && typeof force !== 'boolean') throw new YurtError('invalid_argument', 'EvalOptions.ForceReschedule must be a boolean');
        if (body?.['JobID'] !== undefined && body['JobID'] !== rc.params['id']) throw new YurtError('invalid_argument', 'JobID does not match the job in the path');
        const r = await ctx.endpoints.jobEvaluate(namespaceOf(rc), rc.params['id']!);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'POST',
      path: '/v1/job/:id/revert',
      handler: async (rc) => {
        if (!ctx.endpoints) throw new YurtError('unavailable', 'this agent is not a server');
        const body = (await rc.body()) as { JobVersion?: unknown; EnforcePriorVersion?: unknown };
        if (typeof body.JobVersion !== 'number' || !Number.isInteger(body.JobVersion) || body.JobVersion < 0) {
          throw new YurtError('invalid_argument', 'JobVersion must be a non-negative integer');
        }
        const enforce = typeof body.EnforcePriorVersion === 'number' ? body.EnforcePriorVersion : undefined;
        const r = await ctx.endpoints.jobRevert(namespaceOf(rc), rc.params['id']!, body.JobVersion, enforce);
        return { json: r, index: r.Index };
      },
    },
    {
      method: 'GET',
      path: '/v1/job/:id/versions',
      tables: ['job_versions'],
      handler: (rc) => {
        const job = getJob(ctx, rc);
        return { json: { Versions: needServer(ctx).state.jobVersions(job.Namespace, job.ID).map(jobView), Diffs: null } };
      },
    },
  ];
}
