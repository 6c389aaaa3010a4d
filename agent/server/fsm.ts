/**
 * The finite state machine Raft applies committed entries to. Each entry is one typed command
 * (fsm-commands.ts) written to the state store in one transaction, stamped with the entry's
 * Raft index. Apply is deterministic: the same log gives every server the same state.
 */
import { isDeepStrictEqual } from 'node:util';
import type { Allocation } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import { YurtError } from '../../structs/errors.js';
import { decodeCommand, type AllocDesiredUpdate, type FsmCommand } from './fsm-commands.js';
import { computeJobStatus } from './job-status.js';
import { applyDeploymentStatusUpdates, createDeployment, promoteDeployment, refreshDeploymentProgress, setAllocHealth } from './deployment-fsm.js';
import { applyAclCommand } from '../acl/acl-fsm.js';
import type { StateStore, StateWriter } from './state/state-store.js';
import { jobKey } from './state/state-index.js';

export interface JobRegisterResult {
  jobModifyIndex: number;
  evalId: string;
  evalCreateIndex: number;
}

export type FsmResult = JobRegisterResult | { index: number } | { index: number; updated: boolean } | null;

/** Listener for evaluations written by an apply (the leader enqueues the pending ones). */
export type EvalsListener = (evals: Evaluation[], index: number) => void;

export class Fsm {
  private evalListeners: EvalsListener[] = [];

  constructor(readonly state: StateStore) {}

  onEvals(cb: EvalsListener): void {
    this.evalListeners.push(cb);
  }

  lastApplied(): number {
    return this.state.lastApplied().index;
  }

  /** The whole state for a Raft snapshot (log compaction, followers far behind). */
  snapshot(): Promise<Uint8Array> {
    return Promise.resolve(this.state.snapshotBytes());
  }

  async restore(data: Uint8Array, index: number, term: number): Promise<void> {
    await Promise.resolve();
    this.state.restoreBytes(data, index, term);
  }

  apply(entry: { index: number; term: number; data: Uint8Array }): FsmResult {
    if (entry.data.length === 0) {
      this.state.markApplied(entry.index, entry.term);
      return null;
    }
    const cmd = decodeCommand(entry.data);
    const written: Evaluation[] = [];
    const result = this.state.write(entry.index, entry.term, (w) => this.applyCommand(w, cmd, written));
    if (written.length > 0) for (const l of this.evalListeners) l(written, entry.index);
    return result;
  }

  private applyCommand(w: StateWriter, cmd: FsmCommand, written: Evaluation[]): FsmResult {
    const putEvals = (evals: Evaluation[]): void => {
      for (const ev of evals) {
        const prev = w.evalById(ev.ID);
        const stored: Evaluation = { ...ev, CreateIndex: prev?.CreateIndex ?? w.index, ModifyIndex: w.index };
        w.putEval(stored);
        written.push(stored);
      }
    };
    switch (cmd.type) {
      case 'JobRegister': {
        const job = this.registerJob(w, cmd.job, cmd.now);
        if (cmd.eval) putEvals([{ ...cmd.eval, JobModifyIndex: job.JobModifyIndex }]);
        this.refreshJobStatus(w, job.Namespace, job.ID);
        return { jobModifyIndex: job.JobModifyIndex, evalId: cmd.eval?.ID ?? '', evalCreateIndex: cmd.eval ? w.index : 0 };
      }
      case 'JobDeregister': {
        const job = w.jobById(cmd.namespace, cmd.jobId);
        if (job) {
          if (cmd.purge) {
            w.deleteJob(cmd.namespace, cmd.jobId);
          } else {
            w.putJob({ ...job, Stop: true, Version: job.Version + 1, ModifyIndex: w.index, JobModifyIndex: w.index, SubmitTime: cmd.now });
          }
        }
        if (cmd.eval) putEvals([{ ...cmd.eval, JobModifyIndex: w.index }]);
        if (job && !cmd.purge) this.refreshJobStatus(w, cmd.namespace, cmd.jobId);
        return { index: w.index };
      }
      case 'NodeRegister': {
        const prev = w.nodeById(cmd.node.ID);
        w.putNode({
          ...cmd.node,
          // Eligibility and drain are operator decisions; a re-registering client keeps them.
          SchedulingEligibility: prev?.SchedulingEligibility ?? cmd.node.SchedulingEligibility,
          Drain: prev?.Drain ?? cmd.node.Drain,
          DrainStrategy: prev?.DrainStrategy ?? cmd.node.DrainStrategy,
          Events: prev?.Events ?? cmd.node.Events,
          CreateIndex: prev?.CreateIndex ?? w.index,
          ModifyIndex: w.index,
          StatusUpdatedAt: Math.floor(cmd.now / 1e9),
        });
        return { index: w.index };
      }
      case 'NodeUpdateStatus': {
        const node = w.nodeById(cmd.nodeId);
        if (node && node.Status !== cmd.status) {
          w.putNode({ ...node, Status: cmd.status, StatusUpdatedAt: Math.floor(cmd.now / 1e9), ModifyIndex: w.index });
        }
        putEvals(cmd.evals);
        return { index: w.index };
      }
      case 'NodeUpdateEligibility': {
        const node = w.nodeById(cmd.nodeId);
        if (node) w.putNode({ ...node, SchedulingEligibility: cmd.eligibility, ModifyIndex: w.index });
        putEvals(cmd.evals);
        return { index: w.index };
      }
      case 'NodeUpdateDrain': {
        const node = w.nodeById(cmd.nodeId);
        if (node) {
          w.putNode({
            ...node,
            Drain: cmd.drain !== null,
            DrainStrategy: cmd.drain,
            SchedulingEligibility: cmd.drain !== null ? 'ineligible' : cmd.markEligible ? 'eligible' : node.SchedulingEligibility,
            ModifyIndex: w.index,
          });
        }
        putEvals(cmd.evals);
        return { index: w.index };
      }
      case 'EvalUpsert': {
        putEvals(cmd.evals);
        for (const ev of cmd.evals) this.refreshJobStatus(w, ev.Namespace, ev.JobID);
        return { index: w.index };
      }
      case 'PlanApply': {
        const jobs = new JobSet();
        for (const a of cmd.placed) {
          const prev = w.allocById(a.ID);
          const job = a.Job ?? cmd.job;
          if (!job) throw new YurtError('corrupted', `plan for evaluation ${cmd.evalId} places allocation ${a.ID} without its job`);
          // Decoded from this entry's bytes, so ours to complete in place (a copy per allocation
          // was a good part of the garbage a busy server makes).
          const alloc = a as Allocation;
          alloc.Job = job;
          alloc.CreateIndex = prev?.CreateIndex ?? w.index;
          alloc.ModifyIndex = w.index;
          alloc.AllocModifyIndex = w.index;
          alloc.CreateTime = prev?.CreateTime ?? cmd.now;
          alloc.ModifyTime = cmd.now;
          w.putAlloc(alloc);
          jobs.add(a.Namespace, a.JobID);
        }
        for (const u of cmd.updated) {
          const a = this.applyDesired(w, u, cmd.now);
          if (a) jobs.add(a.Namespace, a.JobID);
        }
        if (cmd.deployment) createDeployment(w, cmd.deployment, cmd.now);
        applyDeploymentStatusUpdates(w, cmd.deploymentUpdates ?? [], cmd.now);
        refreshDeploymentProgress(w, cmd.placed.map((a) => a.DeploymentID), cmd.now);
        putEvals(cmd.evals);
        for (const ev of cmd.evals) jobs.add(ev.Namespace, ev.JobID);
        for (const [ns, id] of jobs.all()) this.refreshJobStatus(w, ns, id);
        return { index: w.index };
      }
      case 'AllocClientUpdate': {
        const jobs = new JobSet();
        const deployments: string[] = [];
        for (const u of cmd.updates) {
          const a = w.allocById(u.ID);
          // Once terminal on the client, an allocation never goes back (a late update must not revive it).
          if (!a || a.ClientStatus === 'complete' || a.ClientStatus === 'failed' || a.ClientStatus === 'lost') continue;
          w.putAlloc({
            ...a,
            ClientStatus: u.ClientStatus,
            ClientDescription: u.ClientDescription,
            TaskStates: u.TaskStates,
            // The client's health verdict drives rolling updates (the next batch waits for it).
            // A canary stays one whatever the client says (its verdict does not know).
            ...(u.DeploymentStatus !== undefined ? { DeploymentStatus: { ...u.DeploymentStatus, Canary: u.DeploymentStatus.Canary || a.DeploymentStatus?.Canary === true, ModifyIndex: w.index } } : {}),
            ModifyIndex: w.index,
            ModifyTime: u.ModifyTime,
          });
          jobs.add(a.Namespace, a.JobID);
          if (u.DeploymentStatus !== undefined) deployments.push(a.DeploymentID);
        }
        refreshDeploymentProgress(w, deployments, cmd.now);
        putEvals(cmd.evals);
        for (const [ns, id] of jobs.all()) this.refreshJobStatus(w, ns, id);
        return { index: w.index };
      }
      case 'DeploymentStatusUpdate': {
        applyDeploymentStatusUpdates(w, cmd.updates, cmd.now);
        // auto_revert: the stable version is registered again, as a new version (Nomad's Job.Revert).
        const job = cmd.job ? this.registerJob(w, cmd.job, cmd.now) : null;
        putEvals(job ? cmd.evals.map((e) => (e.JobID === job.ID && e.Namespace === job.Namespace ? { ...e, JobModifyIndex: job.JobModifyIndex } : e)) : cmd.evals);
        if (job) this.refreshJobStatus(w, job.Namespace, job.ID);
        return { index: w.index };
      }
      case 'DeploymentPromote': {
        promoteDeployment(w, cmd.deploymentId, cmd.all, cmd.groups, cmd.now);
        putEvals(cmd.evals);
        return { index: w.index };
      }
      case 'DeploymentAllocHealth': {
        setAllocHealth(w, cmd.deploymentId, cmd.healthy, cmd.unhealthy, cmd.now);
        putEvals(cmd.evals);
        return { index: w.index };
      }
      case 'AllocDesiredUpdate': {
        for (const u of cmd.updates) {
          const a = this.applyDesired(w, u, cmd.now);
          if (a) this.refreshJobStatus(w, a.Namespace, a.JobID);
        }
        putEvals(cmd.evals);
        return { index: w.index };
      }
      case 'SchedulerSetConfig': {
        const prev = w.schedulerConfig();
        if (cmd.cas !== null && cmd.cas !== prev.ModifyIndex) return { index: w.index, updated: false };
        w.putSchedulerConfig({ ...cmd.config, CreateIndex: prev.CreateIndex || w.index, ModifyIndex: w.index });
        return { index: w.index, updated: true };
      }
      case 'ACLBootstrap':
      case 'ACLPolicyUpsert':
      case 'ACLPolicyDelete':
      case 'ACLTokenUpsert':
      case 'ACLTokenDelete':
      case 'NamespaceUpsert':
      case 'NamespaceDelete':
        return applyAclCommand(w, cmd);
      case 'GcApply': {
        // Allocations first: a purged job's versions are kept only while allocations use them.
        for (const id of cmd.allocIds) w.deleteAlloc(id);
        for (const id of cmd.evalIds) w.deleteEval(id);
        for (const j of cmd.jobs) w.deleteJob(j.namespace, j.id);
        for (const id of cmd.nodeIds) w.deleteNode(id);
        for (const id of cmd.deploymentIds ?? []) w.deleteDeployment(id);
        return { index: w.index };
      }
    }
  }

  private applyDesired(w: StateWriter, u: AllocDesiredUpdate, now: number): Allocation | null {
    const a = w.allocById(u.ID);
    if (!a) return null;
    const next: Allocation = {
      ...a,
      DesiredStatus: u.DesiredStatus,
      DesiredDescription: u.DesiredDescription,
      DesiredTransition: u.DesiredTransition ?? a.DesiredTransition,
      FollowupEvalID: u.FollowupEvalID ?? a.FollowupEvalID,
      ClientStatus: u.ClientStatus ?? a.ClientStatus,
      ModifyIndex: w.index,
      AllocModifyIndex: w.index,
      ModifyTime: now,
    };
    w.putAlloc(next);
    return next;
  }

  private registerJob(w: StateWriter, incoming: Job, now: number): Job {
    const prev = w.jobById(incoming.Namespace, incoming.ID);
    let job: Job;
    if (!prev) {
      job = { ...incoming, Version: 0, CreateIndex: w.index, ModifyIndex: w.index, JobModifyIndex: w.index, SubmitTime: now, Stable: false };
    } else if (jobSpecChanged(prev, incoming)) {
      job = {
        ...incoming,
        Version: prev.Version + 1,
        CreateIndex: prev.CreateIndex,
        ModifyIndex: w.index,
        JobModifyIndex: w.index,
        SubmitTime: now,
        Stable: false,
      };
    } else {
      // Re-registering an unchanged job keeps its version (Nomad does the same) but still re-evaluates.
      job = { ...prev, ModifyIndex: w.index };
    }
    w.putJob(job);
    return job;
  }

  /** Recompute a job's status from its allocations and evaluations (Nomad's getJobStatus). */
  private refreshJobStatus(w: StateWriter, namespace: string, jobId: string): void {
    const job = w.jobById(namespace, jobId);
    if (!job) return;
    const status = computeJobStatus(job, () => w.storedAllocsByJob(namespace, jobId), () => w.evalsByJob(namespace, jobId));
    if (status !== job.Status) w.putJobStatus({ ...job, Status: status, ModifyIndex: w.index });
  }
}

/** Fields that change with every registration and must not count as a change of the spec. */
const VOLATILE_JOB_FIELDS = ['Status', 'StatusDescription', 'Stable', 'Version', 'SubmitTime', 'CreateIndex', 'ModifyIndex', 'JobModifyIndex'] as const;

export function jobSpecChanged(a: Job, b: Job): boolean {
  const strip = (j: Job): Record<string, unknown> => {
    const c: Record<string, unknown> = { ...j };
    for (const f of VOLATILE_JOB_FIELDS) delete c[f];
    return c;
  };
  return !isDeepStrictEqual(strip(a), strip(b));
}

/** The jobs an entry touched, each once: a plan names its job once per allocation. */
class JobSet {
  private readonly byKey = new Map<string, readonly [string, string]>();

  add(namespace: string, jobId: string): void {
    const key = jobKey(namespace, jobId);
    if (!this.byKey.has(key)) this.byKey.set(key, [namespace, jobId]);
  }

  all(): Iterable<readonly [string, string]> {
    return this.byKey.values();
  }
}
