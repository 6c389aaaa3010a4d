/**
 * The typed commands that change cluster state. Each is one Raft entry. Everything that is not
 * deterministic (IDs, wall-clock times) is decided by the proposer and carried in the command,
 * so every server's FSM reaches the same state from the same log.
 */
import { Packr, unpack } from 'msgpackr';
import type { Allocation, AllocClientUpdate, AllocDesiredStatus, DesiredTransition } from '../../structs/alloc.js';
import type { Deployment, DeploymentStatusUpdate } from '../../structs/deployment.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Job } from '../../structs/job.js';
import type { Node, NodeStatus, SchedulingEligibility, DrainStrategy } from '../../structs/node.js';
import { YurtError } from '../../structs/errors.js';
import type { SchedulerConfiguration } from './scheduler-config.js';
import type { AclCommand } from '../acl/acl-commands.js';

/** A change to an existing allocation's desired state, decided by a scheduler. */
export interface AllocDesiredUpdate {
  ID: string;
  DesiredStatus: AllocDesiredStatus;
  DesiredDescription: string;
  /** Set when the server itself decides the outcome (a lost node's allocations). */
  ClientStatus?: 'lost';
  DesiredTransition?: DesiredTransition;
  FollowupEvalID?: string;
}

export type FsmCommand =
  | { type: 'JobRegister'; job: Job; eval: Evaluation | null; now: number }
  | { type: 'JobDeregister'; namespace: string; jobId: string; purge: boolean; eval: Evaluation | null; now: number }
  | { type: 'NodeRegister'; node: Node; now: number }
  | { type: 'NodeUpdateStatus'; nodeId: string; status: NodeStatus; evals: Evaluation[]; now: number }
  | { type: 'NodeUpdateEligibility'; nodeId: string; eligibility: SchedulingEligibility; evals: Evaluation[]; now: number }
  | { type: 'NodeUpdateDrain'; nodeId: string; drain: DrainStrategy | null; markEligible: boolean; evals: Evaluation[]; now: number }
  | { type: 'EvalUpsert'; evals: Evaluation[] }
  | {
      type: 'PlanApply';
      evalId: string;
      job: Job | null;
      /** Allocations of the plan's job travel without their `Job` (the plan carries it once). */
      placed: Array<Omit<Allocation, 'Job'> & { Job?: Job }>;
      updated: AllocDesiredUpdate[];
      evals: Evaluation[];
      now: number;
      /** A deployment the plan creates, committed with its allocations (absent in older entries). */
      deployment?: Deployment | null;
      deploymentUpdates?: DeploymentStatusUpdate[];
    }
  | { type: 'AllocClientUpdate'; updates: AllocClientUpdate[]; evals: Evaluation[]; now: number }
  | { type: 'AllocDesiredUpdate'; updates: AllocDesiredUpdate[]; evals: Evaluation[]; now: number }
  /** Set the scheduler configuration; with `cas`, only if its ModifyIndex still equals it (check-and-set). */
  | { type: 'SchedulerSetConfig'; config: Omit<SchedulerConfiguration, 'CreateIndex' | 'ModifyIndex'>; cas: number | null }
  /**
   * The deployment watcher's (or an operator's) status changes, in one entry per watcher pass.
   * `job` is a stable version registered again (auto_revert); `evals` move the rollouts on.
   */
  | { type: 'DeploymentStatusUpdate'; updates: DeploymentStatusUpdate[]; job: Job | null; evals: Evaluation[]; now: number }
  /** Promote a deployment's canaries: every group with canaries (`all`) or the named ones. */
  | { type: 'DeploymentPromote'; deploymentId: string; all: boolean; groups: string[]; evals: Evaluation[]; now: number }
  /** An operator's health verdicts for a deployment's allocations. */
  | { type: 'DeploymentAllocHealth'; deploymentId: string; healthy: string[]; unhealthy: string[]; evals: Evaluation[]; now: number }
  /** Garbage collection decided by the leader's core job: remove these objects. */
  /** `deploymentIds` is absent in entries written before deployments were collected. */
  | { type: 'GcApply'; evalIds: string[]; allocIds: string[]; jobs: Array<{ namespace: string; id: string }>; nodeIds: string[]; deploymentIds?: string[] }
  /** ACL policies, tokens and namespaces (agent/acl/acl-commands.ts). */
  | AclCommand;

export type FsmCommandType = FsmCommand['type'];

/**
 * Commands are encoded with msgpack records: an object shape is described once per entry and
 * its objects carry only their values. A plan of 100 allocations was 114 KB as plain maps and
 * is 31 KB this way, decoding about twice as fast. Each entry stays self-contained (its record
 * definitions travel in it), and entries written as plain maps still decode. Strings are
 * bundled into one block per entry, which encodes a plan about a quarter faster (the decoder
 * reads both forms).
 */
const commandPackr = new Packr({ useRecords: true, bundleStrings: true });

export function encodeCommand(cmd: FsmCommand): Uint8Array {
  return commandPackr.pack(cmd);
}

export function decodeCommand(data: Uint8Array): FsmCommand {
  const v = unpack(data) as unknown;
  if (typeof v !== 'object' || v === null || typeof (v as { type?: unknown }).type !== 'string') {
    throw new YurtError('corrupted', 'raft entry does not hold a state command');
  }
  return v as FsmCommand;
}
