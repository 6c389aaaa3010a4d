/**
 * The event broker behind `/v1/event/stream`. It turns each committed state change (the
 * objects one Raft index wrote, from StateStore.onChange) into Nomad-style events, keeps the
 * most recent ones in a bounded ring so a subscriber can resume from an index, and fans
 * batches out to live subscribers.
 *
 * Objects are read from the store inside the change callback, which runs synchronously right
 * after the commit: what an event carries is exactly the state at that index.
 */
import type { Allocation } from '../../../structs/alloc.js';
import type { Job } from '../../../structs/job.js';
import type { Node } from '../../../structs/node.js';
import type { ChangedObject, StateChange } from '../state/state-store.js';
import type { StateReader } from '../state/state-reader.js';
import { eventMatches, type EventFilter } from './event-filter.js';
import type { AllocationPayload, EventBatch, EventType, StreamEvent } from './event-types.js';

/** What the broker reads: the store's change feed and its current objects. */
export interface EventSource extends Pick<StateReader, 'jobById' | 'nodeById' | 'nodes' | 'evalById' | 'allocById' | 'deploymentById'> {
  onChange(cb: (c: StateChange) => void): () => void;
}

export interface EventBrokerOptions {
  /** Events kept for resuming (Nomad's event_buffer_size defaults to 100; more is cheap here). */
  capacity?: number;
  /**
   * A second bound on the ring, in bytes of serialized events, so large payloads cannot pile
   * up. Events no one has asked for yet are not serialized and count only towards `capacity`
   * (they hold references to the state's shared objects, not copies).
   */
  maxBytes?: number;
}

interface StoredEvent {
  event: StreamEvent;
  /**
   * Serialized on first delivery, not on commit: with no one subscribed, serializing every
   * allocation a busy cluster places cost more than the rest of recording it.
   */
  json: string | null;
}

interface StoredBatch {
  index: number;
  events: StoredEvent[];
  bytes: number;
  /** Still held in the ring (a subscriber may be sent a batch that has since been trimmed). */
  held: boolean;
}

export interface Subscription {
  unsubscribe(): void;
}

const DEFAULT_CAPACITY = 4096;
const DEFAULT_MAX_BYTES = 64 * 1024 * 1024;

export class EventBroker {
  private readonly ring: StoredBatch[] = [];
  private ringEvents = 0;
  private ringBytes = 0;
  private readonly subscribers = new Set<(b: StoredBatch) => void>();
  /** Last known node of each ID: tells a drain from an eligibility change, and gives a deregistration its payload. */
  private readonly nodes = new Map<string, Node>();
  private readonly capacity: number;
  private readonly maxBytes: number;
  private readonly off: () => void;

  constructor(
    private readonly source: EventSource,
    opts: EventBrokerOptions = {},
  ) {
    this.capacity = opts.capacity ?? DEFAULT_CAPACITY;
    this.maxBytes = opts.maxBytes ?? DEFAULT_MAX_BYTES;
    for (const n of source.nodes()) this.nodes.set(n.ID, publicNode(n));
    // The callback runs inside the FSM's apply path: nothing here may throw into it.
    this.off = source.onChange((c) => {
      try {
        this.publish(c);
      } catch {
        // A change the stream cannot describe is left out rather than failing the apply.
      }
    });
  }

  close(): void {
    this.off();
    this.subscribers.clear();
  }

  /** The oldest index still held for resuming (0 when the ring is empty). */
  oldestIndex(): number {
    return this.ring[0]?.index ?? 0;
  }

  /**
   * Deliver matching batches as NDJSON lines: first the held ones with Index >= `fromIndex`
   * (none when `fromIndex` is 0: a fresh subscriber sees what happens from now on; an index
   * older than the ring starts at the oldest held), then every new one as it commits.
   * Backlog and live delivery join without a gap because both happen in this call's turn.
   */
  subscribe(fromIndex: number, filter: EventFilter, deliver: (line: string) => void): Subscription {
    const send = (b: StoredBatch): void => {
      const line = this.format(b, filter);
      if (line !== null) deliver(line);
    };
    if (fromIndex > 0) for (const b of this.ring) if (b.index >= fromIndex) send(b);
    this.subscribers.add(send);
    return { unsubscribe: () => this.subscribers.delete(send) };
  }

  /** The held batches (for tests and debugging), oldest first. */
  held(): EventBatch[] {
    return this.ring.map((b) => ({ Index: b.index, Events: b.events.map((e) => e.event) }));
  }

  private publish(c: StateChange): void {
    const events: StoredEvent[] = [];
    // An object written twice in one entry (a job and then its status) is one event: both
    // would read the same final state.
    const seen = new Map<ChangedObject['table'], Set<string>>();
    for (const o of c.objects) {
      let keys = seen.get(o.table);
      if (keys === undefined) seen.set(o.table, (keys = new Set()));
      const id = typeof o.key === 'string' ? o.key : o.key.join('\u0000');
      if (keys.has(id)) continue;
      keys.add(id);
      let e: StreamEvent | null;
      try {
        e = this.eventFor(o, c.index);
      } catch {
        // One unreadable object (a store inconsistency) must not hide the rest of the batch.
        e = null;
      }
      if (e) events.push({ event: e, json: null });
    }
    if (events.length === 0) return;
    const batch: StoredBatch = { index: c.index, events, bytes: 0, held: true };
    this.ring.push(batch);
    this.ringEvents += events.length;
    // Live subscribers get it now: serialize before trimming, so the byte bound sees it.
    if (this.subscribers.size > 0) for (const e of events) this.serialize(batch, e);
    while (this.ring.length > 1 && (this.ringEvents > this.capacity || this.ringBytes > this.maxBytes)) {
      const old = this.ring.shift()!;
      old.held = false;
      this.ringEvents -= old.events.length;
      this.ringBytes -= old.bytes;
    }
    for (const s of this.subscribers) {
      try {
        s(batch);
      } catch {
        // A subscriber whose connection broke is removed when its request closes.
      }
    }
  }

  /** The event's JSON, made once and counted against the ring's byte bound. */
  private serialize(b: StoredBatch, e: StoredEvent): string {
    if (e.json !== null) return e.json;
    const json = JSON.stringify(e.event);
    e.json = json;
    b.bytes += json.length;
    // A batch already trimmed off the ring no longer counts towards it.
    if (b.held) this.ringBytes += json.length;
    return json;
  }

  /** One NDJSON line with the batch's events that pass `filter`, or null when none do. */
  private format(b: StoredBatch, filter: EventFilter): string | null {
    const parts: string[] = [];
    for (const e of b.events) if (eventMatches(e.event, filter)) parts.push(this.serialize(b, e));
    if (parts.length === 0) return null;
    return `{"Index":${b.index},"Events":[${parts.join(',')}]}\n`;
  }

  private eventFor(o: ChangedObject, index: number): StreamEvent | null {
    switch (o.table) {
      case 'jobs':
        return this.jobEvent(o, index);
      case 'allocs': {
        if (o.deleted || typeof o.key !== 'string') return null;
        const a = this.source.allocById(o.key);
        if (!a) return null;
        // Placed by this index's plan, or changed later (client status, desired status).
        const type: EventType = a.CreateIndex === index ? 'PlanResult' : 'AllocationUpdated';
        return {
          Topic: 'Allocation',
          Type: type,
          Key: a.ID,
          Namespace: a.Namespace,
          FilterKeys: filterKeys(a.JobID, a.DeploymentID),
          Index: index,
          // Built when the event is read or serialized, not for every allocation a plan places.
          Payload: {
            get Allocation(): AllocationPayload {
              return allocPayload(a);
            },
          },
        };
      }
      case 'evals': {
        if (o.deleted || typeof o.key !== 'string') return null;
        const ev = this.source.evalById(o.key);
        if (!ev) return null;
        return {
          Topic: 'Evaluation',
          Type: 'EvaluationUpdated',
          Key: ev.ID,
          Namespace: ev.Namespace,
          FilterKeys: filterKeys(ev.JobID, ev.DeploymentID),
          Index: index,
          Payload: { Evaluation: ev },
        };
      }
      case 'nodes':
        return this.nodeEvent(o, index);
      case 'scheduler_config':
        // Nomad publishes no event for the scheduler configuration.
        return null;
      case 'deployments': {
        if (o.deleted || typeof o.key !== 'string') return null;
        const d = this.source.deploymentById(o.key);
        if (!d) return null;
        // Created by this index's plan, or a status, health or promotion change since.
        const type: EventType = d.CreateIndex === index ? 'PlanResult' : 'DeploymentStatusUpdate';
        return { Topic: 'Deployment', Type: type, Key: d.ID, Namespace: d.Namespace, FilterKeys: [d.JobID], Index: index, Payload: { Deployment: d } };
      }
    }
  }

  private jobEvent(o: ChangedObject, index: number): StreamEvent | null {
    if (typeof o.key === 'string') return null;
    const [ns, id] = o.key;
    let job: Job | null = o.deleted ? null : this.source.jobById(ns, id);
    let type: EventType;
    if (o.deleted) {
      // A purge: the job is gone from the store, so carry the last version this stream saw.
      job = this.lastJobPayload(ns, id);
      type = 'JobDeregistered';
    } else {
      if (!job) return null;
      // A register or stop sets JobModifyIndex; other writes (status) ride on a plan's commit.
      type = job.JobModifyIndex === index ? (job.Stop ? 'JobDeregistered' : 'JobRegistered') : 'PlanResult';
    }
    if (!job) return null;
    return { Topic: 'Job', Type: type, Key: id, Namespace: ns, FilterKeys: [], Index: index, Payload: { Job: job } };
  }

  private lastJobPayload(ns: string, id: string): Job | null {
    for (let i = this.ring.length - 1; i >= 0; i--) {
      for (const e of this.ring[i]!.events) {
        if (e.event.Topic === 'Job' && e.event.Key === id && e.event.Namespace === ns && 'Job' in e.event.Payload) return e.event.Payload.Job;
      }
    }
    return null;
  }

  private nodeEvent(o: ChangedObject, index: number): StreamEvent | null {
    if (typeof o.key !== 'string') return null;
    const prev = this.nodes.get(o.key);
    let node: Node;
    let type: EventType;
    if (o.deleted) {
      if (!prev) return null;
      this.nodes.delete(o.key);
      node = prev;
      type = 'NodeDeregistration';
    } else {
      const current = this.source.nodeById(o.key);
      if (!current) return null;
      node = publicNode(current);
      this.nodes.set(node.ID, node);
      if (!prev || node.CreateIndex === index) type = 'NodeRegistration';
      else if (prev.Drain !== node.Drain || JSON.stringify(prev.DrainStrategy) !== JSON.stringify(node.DrainStrategy)) type = 'NodeDrain';
      else if (prev.SchedulingEligibility !== node.SchedulingEligibility) type = 'NodeEligibility';
      else type = 'NodeStreamEvent';
    }
    return { Topic: 'Node', Type: type, Key: node.ID, Namespace: '', FilterKeys: [], Index: index, Payload: { Node: node } };
  }
}

/** A node's SecretID never leaves the servers. */
function publicNode(n: Node): Node {
  return { ...n, SecretID: '' };
}

function allocPayload(a: Allocation): AllocationPayload {
  return { ...a, Job: null };
}

/** An event's filter keys: its job and deployment, those that are set. */
function filterKeys(jobId: string, deploymentId: string): string[] {
  if (deploymentId === '') return jobId === '' ? [] : [jobId];
  return jobId === '' ? [deploymentId] : [jobId, deploymentId];
}
