/**
 * Where a scheduler worker gets evaluations and sends plans. Workers run on every server
 * (Nomad's model): on the leader they use its broker and plan applier directly; on a follower
 * they reach the leader's over RPC (`Eval.Dequeue`, `Plan.Submit`, ...) and plan against the
 * follower's own state, having first waited for it to reach the evaluation's index, so work
 * spreads over all servers while the leader alone decides what commits.
 */
import type { Evaluation } from '../../structs/eval.js';
import type { Plan, PlanResult } from '../../structs/plan.js';
import { YurtError } from '../../structs/errors.js';
import type { RpcServer } from '../rpc/rpc-server.js';
import type { StateStore } from './state/state-store.js';
import type { Server } from './server.js';

export interface DequeuedEval {
  ev: Evaluation;
  token: string;
}

export interface SchedulingBackend {
  /** Local (leader) or remote (follower); remote work waits for local state to catch up. */
  readonly remote: boolean;
  dequeue(types: string[], timeoutMs: number): Promise<DequeuedEval | null>;
  ack(evalId: string, token: string): Promise<void>;
  nack(evalId: string, token: string): Promise<void>;
  submitPlan(plan: Plan): Promise<PlanResult>;
  upsertEvals(evals: Evaluation[]): Promise<void>;
}

export type Forward = <T>(method: string, args: unknown, timeoutMs?: number) => Promise<T>;

/** The leader's own broker and plan applier. */
export function localBackend(server: Server): SchedulingBackend {
  return {
    remote: false,
    dequeue: (types, timeoutMs) => server.broker.dequeue(types, timeoutMs),
    ack: (id, token) => Promise.resolve(void server.broker.ack(id, token)),
    nack: (id, token) => Promise.resolve(void server.broker.nack(id, token)),
    submitPlan: (plan) => server.submitPlan(plan),
    upsertEvals: (evals) => server.upsertEvals(evals),
  };
}

/** The leader's broker and plan applier, from a follower. */
export function remoteBackend(forward: Forward): SchedulingBackend {
  return {
    remote: true,
    dequeue: async (types, timeoutMs) => {
      const r = await forward<{ Eval: Evaluation; Token: string } | null>('Eval.Dequeue', { Schedulers: types, TimeoutMs: timeoutMs }, timeoutMs + 5000);
      return r === null ? null : { ev: r.Eval, token: r.Token };
    },
    ack: async (id, token) => void (await forward('Eval.Ack', { EvalID: id, Token: token })),
    nack: async (id, token) => void (await forward('Eval.Nack', { EvalID: id, Token: token })),
    submitPlan: (plan) => forward<PlanResult>('Plan.Submit', { Plan: plan }, 60_000),
    upsertEvals: async (evals) => void (await forward('Eval.Upsert', { Evals: evals })),
  };
}

/** The leader's side of the remote backend. */
export function registerSchedulingEndpoints(rpc: RpcServer, server: Server): void {
  const leaderOnly = (): void => {
    if (!server.leaderReady()) throw new YurtError('no_leader', 'this server is not the leader (or is still taking over)');
  };
  rpc.handle('Eval.Dequeue', async (a, conn) => {
    leaderOnly();
    const x = a as { Schedulers?: unknown; TimeoutMs?: unknown };
    const types = Array.isArray(x.Schedulers) ? x.Schedulers.filter((t): t is string => typeof t === 'string') : [];
    const timeout = typeof x.TimeoutMs === 'number' ? Math.min(Math.max(0, x.TimeoutMs), 5000) : 500;
    const d = await server.broker.dequeue(types, timeout);
    if (d === null) return null;
    // The follower went away while it waited (it left, or restarted): the evaluation goes
    // back to the queue now rather than after the nack timeout, a minute of nothing scheduled,
    // and without counting as a failed delivery.
    if (!conn.open) {
      server.broker.undeliver(d.ev.ID, d.token);
      return null;
    }
    return { Eval: d.ev, Token: d.token };
  });
  rpc.handle('Eval.Ack', (a) => {
    leaderOnly();
    const x = a as { EvalID: string; Token: string };
    if (!server.broker.ack(x.EvalID, x.Token)) throw new YurtError('conflict', `evaluation ${x.EvalID} is not outstanding with that token`);
    return null;
  });
  rpc.handle('Eval.Nack', (a) => {
    leaderOnly();
    const x = a as { EvalID: string; Token: string };
    if (!server.broker.nack(x.EvalID, x.Token)) throw new YurtError('conflict', `evaluation ${x.EvalID} is not outstanding with that token`);
    return null;
  });
  rpc.handle('Plan.Submit', (a) => {
    leaderOnly();
    return server.submitPlan((a as { Plan: Plan }).Plan);
  });
  rpc.handle('Eval.Upsert', async (a) => {
    leaderOnly();
    await server.upsertEvals((a as { Evals: Evaluation[] }).Evals);
    return null;
  });
}

/** Resolves once `state` has applied `index`; rejects after `timeoutMs`. */
export async function waitForIndex(state: StateStore, index: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (state.lastApplied().index < index) {
    if (Date.now() > deadline) throw new YurtError('timeout', `state did not reach index ${index} within ${timeoutMs} ms (at ${state.lastApplied().index})`);
    await new Promise<void>((resolve) => {
      const off = state.onChange(() => {
        clearTimeout(t);
        off();
        resolve();
      });
      // Entries that change no table (no-ops) do not emit: poll too.
      const t = setTimeout(() => {
        off();
        resolve();
      }, 20);
    });
  }
}
