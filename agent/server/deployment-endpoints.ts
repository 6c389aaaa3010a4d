/**
 * The operator's deployment writes (Nomad's Deployment.Fail, Pause, Promote, SetAllocHealth).
 * A non-leader forwards each to the leader over RPC; the leader checks it against the latest
 * state and proposes one Raft command that also carries the evaluation that makes the
 * scheduler act on it. Errors a user can cause are typed, with Nomad's messages.
 */
import {
  DeploymentDescription,
  isDeploymentActive,
  runningDescription,
  type Deployment,
  type DeploymentUpdateResponse,
} from '../../structs/deployment.js';
import { YurtError } from '../../structs/errors.js';
import type { Job } from '../../structs/job.js';
import type { RpcArgs } from '../rpc/rpc-args.js';
import { argBool, argString } from '../rpc/rpc-args.js';
import { deploymentFailure } from './deployment-watcher.js';
import type { FsmCommand } from './fsm-commands.js';
import { nowNs, type Server } from './server.js';

export type ForwardFn = <T>(method: string, args: unknown) => Promise<T>;

/** Registers an RPC handler that receives checked arguments. */
export type RpcOn = (method: string, h: (x: RpcArgs, conn: unknown, m: string) => unknown) => void;

export class DeploymentEndpoints {
  constructor(
    private readonly server: Server,
    private readonly forward: ForwardFn,
  ) {}

  register(on: RpcOn): void {
    on('Deployment.Fail', (x, _c, m) => this.fail(argString(x, 'DeploymentID', m)));
    on('Deployment.Pause', (x, _c, m) => this.pause(argString(x, 'DeploymentID', m), argBool(x, 'Pause', m)));
    on('Deployment.Promote', (x, _c, m) => this.promote(argString(x, 'DeploymentID', m), argBool(x, 'All', m), stringList(x['Groups'], 'Groups')));
    on('Deployment.SetAllocHealth', (x, _c, m) =>
      this.setAllocHealth(argString(x, 'DeploymentID', m), stringList(x['HealthyAllocationIDs'], 'HealthyAllocationIDs'), stringList(x['UnhealthyAllocationIDs'], 'UnhealthyAllocationIDs')),
    );
  }

  /** Mark a deployment failed; with auto_revert the job goes back to its latest stable version. */
  async fail(id: string): Promise<DeploymentUpdateResponse> {
    if (!this.server.isLeader()) return this.forward('Deployment.Fail', { DeploymentID: id });
    const { d, job } = this.lookup(id);
    if (!isDeploymentActive(d)) throw new YurtError('invalid_argument', "can't fail terminal deployment");
    const failure = deploymentFailure(this.server.state, d, job, DeploymentDescription.FailedByUser);
    const ev = this.server.newEval(job, 'deployment-watcher', { DeploymentID: d.ID });
    return this.commit(
      { type: 'DeploymentStatusUpdate', updates: [failure.update], job: failure.revertTo, evals: [ev], now: nowNs() },
      ev.ID,
      failure.revertTo?.Version,
    );
  }

  /** Pause (or resume, with `pause` false) a running deployment. */
  async pause(id: string, pause: boolean): Promise<DeploymentUpdateResponse> {
    if (!this.server.isLeader()) return this.forward('Deployment.Pause', { DeploymentID: id, Pause: pause });
    const { d, job } = this.lookup(id);
    if (!isDeploymentActive(d)) throw new YurtError('invalid_argument', pause ? "can't pause terminal deployment" : "can't resume terminal deployment");
    const status = pause ? ('paused' as const) : ('running' as const);
    const description = pause ? DeploymentDescription.Paused : runningDescription({ ...d, Status: 'running' });
    // Resuming hands the rollout back to the scheduler; pausing needs no evaluation.
    const evals = pause ? [] : [this.server.newEval(job, 'deployment-watcher', { DeploymentID: d.ID })];
    return this.commit({ type: 'DeploymentStatusUpdate', updates: [{ DeploymentID: d.ID, Status: status, StatusDescription: description }], job: null, evals, now: nowNs() }, evals[0]?.ID ?? '');
  }

  /** Promote the canaries of every group (`all`) or of `groups`; each must have its canaries healthy. */
  async promote(id: string, all: boolean, groups: string[]): Promise<DeploymentUpdateResponse> {
    if (!this.server.isLeader()) return this.forward('Deployment.Promote', { DeploymentID: id, All: all, Groups: groups });
    const { d, job } = this.lookup(id);
    if (!isDeploymentActive(d)) throw new YurtError('invalid_argument', "can't promote terminal deployment");
    if (d.Status === 'paused') throw new YurtError('invalid_argument', "can't promote a paused deployment");
    if (!all && groups.length === 0) throw new YurtError('invalid_argument', 'must promote all groups or name at least one');
    for (const g of groups) if (d.TaskGroups[g] === undefined) throw new YurtError('invalid_argument', `Deployment does not have a group "${g}"`);
    const chosen = Object.entries(d.TaskGroups).filter(([name, g]) => (all || groups.includes(name)) && g.DesiredCanaries > 0 && !g.Promoted);
    if (chosen.length === 0) throw new YurtError('invalid_argument', 'no canaries to promote');
    for (const [name, g] of chosen) {
      const healthy = g.PlacedCanaries.filter((a) => this.server.state.allocById(a)?.DeploymentStatus?.Healthy === true).length;
      if (healthy < g.DesiredCanaries) throw new YurtError('invalid_argument', `Task group "${name}" has ${healthy}/${g.DesiredCanaries} healthy allocations`);
    }
    const ev = this.server.newEval(job, 'deployment-watcher', { DeploymentID: d.ID });
    return this.commit({ type: 'DeploymentPromote', deploymentId: d.ID, all, groups, evals: [ev], now: nowNs() }, ev.ID);
  }

  /** Set allocations' health by hand (update { health_check = "manual" }). */
  async setAllocHealth(id: string, healthy: string[], unhealthy: string[]): Promise<DeploymentUpdateResponse> {
    if (!this.server.isLeader()) return this.forward('Deployment.SetAllocHealth', { DeploymentID: id, HealthyAllocationIDs: healthy, UnhealthyAllocationIDs: unhealthy });
    const { d, job } = this.lookup(id);
    if (!isDeploymentActive(d)) throw new YurtError('invalid_argument', "can't set health of allocations for a terminal deployment");
    if (healthy.length + unhealthy.length === 0) throw new YurtError('invalid_argument', 'must specify at least one healthy/unhealthy allocation ID');
    for (const a of [...healthy, ...unhealthy]) {
      const alloc = this.server.state.allocById(a);
      if (!alloc) throw new YurtError('not_found', `unknown alloc: ${a}`);
      if (alloc.DeploymentID !== d.ID) throw new YurtError('invalid_argument', `Allocation "${a}" is not part of deployment "${d.ID}"`);
    }
    const both = healthy.filter((a) => unhealthy.includes(a));
    if (both.length > 0) throw new YurtError('invalid_argument', `Allocation "${both[0]!}" cannot be both healthy and unhealthy`);
    const ev = this.server.newEval(job, 'deployment-watcher', { DeploymentID: d.ID });
    return this.commit({ type: 'DeploymentAllocHealth', deploymentId: d.ID, healthy, unhealthy, evals: [ev], now: nowNs() }, ev.ID);
  }

  private lookup(id: string): { d: Deployment; job: Job } {
    const d = this.server.state.deploymentById(id);
    if (!d) throw new YurtError('not_found', `deployment not found: ${id}`);
    const job = this.server.state.jobById(d.Namespace, d.JobID);
    if (!job) throw new YurtError('not_found', `job not found: ${d.JobID}`);
    return { d, job };
  }

  private async commit(cmd: FsmCommand, evalId: string, revertedTo?: number): Promise<DeploymentUpdateResponse> {
    const r = (await this.server.applyCommand(cmd)) as { index: number };
    return {
      EvalID: evalId,
      EvalCreateIndex: evalId === '' ? 0 : r.index,
      DeploymentModifyIndex: r.index,
      ...(revertedTo !== undefined ? { RevertedJobVersion: revertedTo } : {}),
      Index: r.index,
    };
  }
}

/** An optional list of strings in a request (absent or null is empty). */
export function stringList(v: unknown, what: string): string[] {
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x.length === 0 || x.length > 512)) {
    throw new YurtError('invalid_argument', `${what} must be a list of IDs`);
  }
  return v as string[];
}
