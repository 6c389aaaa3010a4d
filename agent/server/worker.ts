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
import type { EvalBroker } from './eval-broker.js';
import type { PlanApplier } from './plan-applier.js';
import type { StateStore } from './state/state-store.js';

export const SCHEDULER_TYPES = ['service', 'batch', 'system', 'sysbatch'];

export interface WorkerDeps {
  broker: EvalBroker;
  state: StateStore;
  planApplier: PlanApplier;
  upsertEvals: (evals: Evaluation[]) => Promise<void>;
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
      const d = await this.deps.broker.dequeue(SCHEDULER_TYPES, 500);
      if (!d) continue;
      try {
        await this.invoke(d.ev);
        this.deps.broker.ack(d.ev.ID, d.token);
      } catch (err) {
        this.deps.logger.error({ err, eval_id: d.ev.ID }, 'scheduler failed; evaluation will be retried');
        this.deps.broker.nack(d.ev.ID, d.token);
      }
    }
  }

  private async invoke(ev: Evaluation): Promise<void> {
    const snap = this.deps.state.snapshot();
    const snapshots = [snap];
    try {
      const planner: Planner = {
        submitPlan: async (plan: Plan): Promise<PlanSubmission> => {
          const result = await this.deps.planApplier.apply(plan);
          if (result.RefreshIndex === 0) return { result, refreshedState: null };
          const fresh = this.deps.state.snapshot();
          snapshots.push(fresh);
          return { result, refreshedState: fresh };
        },
        updateEval: (e) => this.deps.upsertEvals([e]),
        createEval: (e) => this.deps.upsertEvals([e]),
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
