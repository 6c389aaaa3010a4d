/**
 * /v1/job/:id/scale — Nomad's scaling endpoints: GET reads each group's desired and actual
 * counts (JobScaleStatus), POST changes one group's count (a ScalingRequest) by registering
 * the job again with the new count, which makes a new job version and an evaluation.
 */
import { isAllocTerminal } from '../../structs/alloc.js';
import { YurtError } from '../../structs/errors.js';
import type { Job } from '../../structs/job.js';
import type { ApiContext } from './api-context.js';
import type { RequestContext, Route } from './http-router.js';
import { namespaceOf, needEndpoints, needServer } from './route-helpers.js';

/** Nomad's TaskGroupScaleStatus. Scaling events are not recorded yet, so Events is always empty. */
export interface TaskGroupScaleStatus {
  Desired: number;
  Placed: number;
  Running: number;
  Healthy: number;
  Unhealthy: number;
  Events: unknown[];
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

/** The parts of Nomad's ScalingRequest yurt acts on, checked field by field. */
export interface ScalingRequest {
  Count: number | null;
  Group: string;
  Message: string;
  Error: boolean;
}

export function parseScalingRequest(body: unknown, jobId: string): ScalingRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new YurtError('invalid_argument', 'scaling request must be a JSON object');
  const b = body as Record<string, unknown>;
  const count = b['Count'] ?? null;
  if (count !== null && (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 0)) {
    throw new YurtError('invalid_argument', 'Count must be a non-negative integer');
  }
  const target = b['Target'];
  if (typeof target !== 'object' || target === null || Array.isArray(target)) throw new YurtError('invalid_argument', 'Target must be an object with "Group"');
  const t = target as Record<string, unknown>;
  const group = t['Group'];
  if (typeof group !== 'string' || group === '') throw new YurtError('invalid_argument', 'Target.Group must name a task group');
  if (t['Job'] !== undefined && t['Job'] !== jobId) throw new YurtError('invalid_argument', `Target.Job ${JSON.stringify(t['Job'])} does not match the job in the path ("${jobId}")`);
  const message = b['Message'] ?? '';
  if (typeof message !== 'string') throw new YurtError('invalid_argument', 'Message must be a string');
  const error = b['Error'] ?? false;
  if (typeof error !== 'boolean') throw new YurtError('invalid_argument', 'Error must be a boolean');
  if (count === null && !error && message === '') throw new YurtError('invalid_argument', 'scaling request needs a Count, or a Message/Error to record');
  return { Count: count, Group: group, Message: message, Error: error };
}

function getJob(ctx: ApiContext, rc: RequestContext): Job {
  const job = needServer(ctx).state.jobById(namespaceOf(rc), rc.params['id']!);
  if (!job) throw new YurtError('not_found', 'job not found');
  return job;
}

export function jobScaleRoutes(ctx: ApiContext): Route[] {
  return [
    {
      method: 'GET',
      path: '/v1/job/:id/scale',
      tables: ['jobs', 'allocs'],
      handler: (rc) => {
        const job = getJob(ctx, rc);
        const allocs = needServer(ctx).state.allocsByJob(job.Namespace, job.ID);
        const groups: Record<string, TaskGroupScaleStatus> = {};
        for (const tg of job.TaskGroups) {
          const mine = allocs.filter((a) => a.TaskGroup === tg.Name && !isAllocTerminal(a) && a.Job.Version === job.Version);
          groups[tg.Name] = {
            Desired: tg.Count,
            Placed: mine.length,
            Running: mine.filter((a) => a.ClientStatus === 'running').length,
            // The clients' health verdicts on the current version (what its deployment counts).
            Healthy: mine.filter((a) => a.DeploymentStatus?.Healthy === true).length,
            Unhealthy: mine.filter((a) => a.DeploymentStatus?.Healthy === false).length,
            Events: [],
          };
        }
        const status: JobScaleStatus = {
          JobID: job.ID,
          Namespace: job.Namespace,
          JobCreateIndex: job.CreateIndex,
          JobModifyIndex: job.JobModifyIndex,
          JobStopped: job.Stop,
          TaskGroups: groups,
        };
        return { json: status };
      },
    },
    {
      method: 'POST',
      path: '/v1/job/:id/scale',
      handler: async (rc) => {
        const req = parseScalingRequest(await rc.body(), rc.params['id']!);
        const job = getJob(ctx, rc);
        if (!job.TaskGroups.some((g) => g.Name === req.Group)) throw new YurtError('not_found', `task group "${req.Group}" not found in job "${job.ID}"`);
        if (req.Count === null) {
          // An event-only request (an autoscaler reporting an error): nothing to register.
          return { json: { EvalID: '', EvalCreateIndex: 0, JobModifyIndex: job.JobModifyIndex, Warnings: '', Index: job.ModifyIndex }, index: job.ModifyIndex };
        }
        if (job.Periodic?.Enabled === true || job.ParameterizedJob !== undefined) {
          throw new YurtError('invalid_argument', 'cannot scale a periodic or parameterized job');
        }
        const count = req.Count;
        const scaled: Job = { ...job, Stop: false, TaskGroups: job.TaskGroups.map((g) => (g.Name === req.Group ? { ...g, Count: count } : g)) };
        const r = await needEndpoints(ctx).jobRegister(scaled);
        return { json: r, index: r.Index };
      },
    },
  ];
}
