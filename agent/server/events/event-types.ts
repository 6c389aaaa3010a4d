/**
 * The event stream's wire shapes, as Nomad's `/v1/event/stream` sends them: each line is one
 * Raft index's events, `{Index, Events:[{Topic, Type, Key, Namespace, FilterKeys, Index,
 * Payload}]}`, and an idle stream sends `{}` as a heartbeat.
 */
import type { Allocation } from '../../../structs/alloc.js';
import type { Deployment } from '../../../structs/deployment.js';
import type { Evaluation } from '../../../structs/eval.js';
import type { Job } from '../../../structs/job.js';
import type { Node } from '../../../structs/node.js';

export const EVENT_TOPICS = ['Job', 'Allocation', 'Evaluation', 'Node', 'Deployment'] as const;
export type EventTopic = (typeof EVENT_TOPICS)[number];

/** Nomad's event types for the topics yurt publishes (the Type* constants of nomad/structs/event.go). */
export type EventType =
  | 'JobRegistered'
  | 'JobDeregistered'
  | 'AllocationUpdated'
  | 'PlanResult'
  | 'EvaluationUpdated'
  | 'NodeRegistration'
  | 'NodeDeregistration'
  | 'NodeEligibility'
  | 'NodeDrain'
  | 'NodeStreamEvent'
  | 'DeploymentStatusUpdate';

/** Allocations travel without their embedded job, as in Nomad, to keep events small. */
export type AllocationPayload = Omit<Allocation, 'Job'> & { Job: null };

export type EventPayload = { Job: Job } | { Allocation: AllocationPayload } | { Evaluation: Evaluation } | { Node: Node } | { Deployment: Deployment };

export interface StreamEvent {
  Topic: EventTopic;
  Type: EventType;
  Key: string;
  Namespace: string;
  /** Other keys a `topic=Topic:key` subscription matches (an allocation's job, an eval's job). */
  FilterKeys: string[];
  Index: number;
  Payload: EventPayload;
}

/** One line of the stream: every event one Raft index produced. */
export interface EventBatch {
  Index: number;
  Events: StreamEvent[];
}
