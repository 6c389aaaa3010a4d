/**
 * A scheduler worker: takes an evaluation from the broker, runs the scheduler for its type
 * against a consistent state snapshot, and acks it (or nacks it on error so it is retried).
 */
import type { Logger } from 'pino';
import type { Evaluation } from '../../structs/eval.js';
import type { Plan } from '../../structs/plan.js';
import { GenericScheduler } from '../../scheduler/generic-scheduler.js';
import type { PlanSubmission, Planner, Scheduler, SchedulerContext, SchedulerState } from '../../scheduler/scheduler-api.js';
import { SystemScheduler } from '../../scheduler/system-scheduler.js';
import type { ServerMetricsSink } from './server-metrics.js';
import { waitForIndex, type SchedulingBackend } from './scheduling-backend.js';
import type { StateStore } from './state/state-store.js';

export const SCHEDULER_TYPES = ['service', 'batch', 'system', 'sysbatch'];

export interface WorkerDeps {
  /** The leader's broker and plan applier, local or over RPC; null while there is no leader. */
  backend: () => SchedulingBackend | null;
  state: StateStore;
  ctx: SchedulerContext;
  logger: Logger;
  metrics?: ServerMetricsSink;
}

export class Worker {
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(private readonly deps: WorkerDeps) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }

  private async run(): Promise<void> {
    while (this.running) {
      const backend = this.deps.backend();
      if (backend === null) {
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      let d;
      try {
        d = await backend.dequeue(SCHEDULER_TYPES, 500);
      } catch (err) {
        // Leadership moved or the leader is unreachable: ask again shortly.
        this.deps.logger.debug({ err }, 'could not dequeue an evaluation');
        await new Promise((r) => setTimeout(r, 250));
        continue;
      }
      if (!d) continue;
      try {
        // A follower plans on its own state: it must have what the evaluation was made from.
        if (backend.remote) await waitForIndex(this.deps.state, d.ev.ModifyIndex, 5000);
        await this.invoke(backend, d.ev);
        await backend.ack(d.ev.ID, d.token);
      } catch (err) {
        this.deps.logger.error({ err, eval_id: d.ev.ID }, 'scheduler failed; evaluation will be retried');
        await backend.nack(d.ev.ID, d.token).catch(() => undefined);
      }
    }
  }

  private async invoke(backend: SchedulingBackend, ev: Evaluation): Promise<void> {
    const snap = this.deps.state.snapshot();
    const snapshots = [snap];
    try {
      const planner: Planner = {
        submitPlan: async (plan: Plan): Promise<PlanSubmission> => {
          const result = await backend.submitPlan(plan);
          if (result.RefreshIndex === 0) return { result, refreshedState: null };
          if (backend.remote) await waitForIndex(this.deps.state, result.RefreshIndex, 5000);
          const fresh = this.deps.state.snapshot();
          snapshots.push(fresh);
          return { result, refreshedState: fresh };
        },
        updateEval: (e) => backend.upsertEvals([e]),
        createEval: (e) => backend.upsertEvals([e]),
      };
      const scheduler = schedulerFor(ev, snap, planner, this.deps.ctx);
      const t0 = performance.now();
      try {
        await scheduler.process(ev);
      } finally {
        this.deps.metrics?.workerInvoke(ev.Type, (performance.now() - t0) / 1000);
      }
    } finally {
      for (const s of snapshots) s.release();
    }
  }
}

/** service/batch → the generic scheduler; system/sysbatch → one allocation per node (Nomad's BuiltinSchedulers). */
export function schedulerFor(ev: Evaluation, state: SchedulerState, planner: Planner, ctx: SchedulerContext): Scheduler {
  switch (ev.Type) {
    case 'service':
    case 'batch':
      return new GenericScheduler(state, planner, ctx);
    case 'system':
    case 'sysbatch':
      return new SystemScheduler(state, planner, ctx);
    case '_core':
      throw new Error(`evaluation ${ev.ID} of type _core is not for a job scheduler`);
  }
}
