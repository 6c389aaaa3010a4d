/**
 * Follows one evaluation (and the chain of evaluations it hands off to) until it finishes,
 * printing what changes, as `nomad job run` does. Uses blocking queries on the evaluation.
 * Exit code as Nomad's monitor: 0 done, 2 placement failures, 1 could not monitor.
 */
import type { ApiClient } from '../../api/client.js';
import type { Evaluation } from '../../structs/eval.js';
import { isEvalTerminal } from '../../structs/eval.js';
import { asYurtError } from '../../structs/errors.js';
import { isAbortError } from '../../api/http-error.js';
import { failedGroupHeader, formatAllocMetrics } from '../format/placement.js';
import { limit } from '../format/table.js';
import { formatDurationNs } from '../format/time.js';
import { DEFAULT_WAIT_MS, paceBlockingQuery, sleep } from './blocking.js';
import { emptyEvalSnapshot, evalChangeLines, evalSnapshot } from './eval-state.js';
import type { AllocSnapshot, EvalSnapshot } from './eval-state.js';
import type { MonitorUi } from './monitor-ui.js';

export interface EvalMonitorOptions {
  idLen: number;
  signal?: AbortSignal | undefined;
  waitMs?: number;
}

export interface EvalMonitorResult {
  exitCode: 0 | 1 | 2;
  /** The last evaluation of the chain, as last seen. */
  evaluation: Evaluation | null;
  /** Every allocation the monitored evaluations touched, as last seen. */
  allocs: Map<string, AllocSnapshot>;
}

export async function monitorEval(
  client: ApiClient,
  evalId: string,
  ui: MonitorUi,
  opts: EvalMonitorOptions,
): Promise<EvalMonitorResult> {
  const seen = new Map<string, AllocSnapshot>();
  let schedFailure = false;
  let id = evalId;
  let last: Evaluation | null = null;
  try {
    for (;;) {
      const ev = await followOne(client, id, ui, opts, seen);
      last = ev;
      if (Object.keys(ev.FailedTGAllocs ?? {}).length === 0) {
        ui.info(`Evaluation "${limit(ev.ID, opts.idLen)}" finished with status "${ev.Status}"`);
      } else {
        schedFailure = true;
        ui.info(`Evaluation "${limit(ev.ID, opts.idLen)}" finished with status "${ev.Status}" but failed to place all allocations:`);
        for (const tg of Object.keys(ev.FailedTGAllocs ?? {}).sort()) {
          const m = ev.FailedTGAllocs?.[tg];
          if (m === undefined) continue;
          ui.output(failedGroupHeader(tg, m));
          for (const line of formatAllocMetrics(m, false, '  ')) ui.detail(line);
        }
        if (ev.BlockedEval !== '') {
          ui.output(`Evaluation "${limit(ev.BlockedEval, opts.idLen)}" waiting for additional capacity to place remainder`);
        }
      }
      if (ev.NextEval === '') break;
      if (ev.Wait > 0) {
        ui.info(`Monitoring next evaluation "${limit(ev.NextEval, opts.idLen)}" in ${formatDurationNs(ev.Wait)}`);
        await sleep(ev.Wait / 1e6, opts.signal);
      }
      id = ev.NextEval;
    }
  } catch (err) {
    if (isAbortError(err)) throw err;
    ui.error(`Error reading evaluation: ${asYurtError(err).message}`);
    return { exitCode: 1, evaluation: last, allocs: seen };
  }
  return { exitCode: schedFailure ? 2 : 0, evaluation: last, allocs: seen };
}

/** Blocks on one evaluation until it is terminal, printing changes; returns it. */
async function followOne(
  client: ApiClient,
  evalId: string,
  ui: MonitorUi,
  opts: EvalMonitorOptions,
  seen: Map<string, AllocSnapshot>,
): Promise<Evaluation> {
  let state: EvalSnapshot = emptyEvalSnapshot();
  let index = 0;
  let header = false;
  for (;;) {
    const started = Date.now();
    const q = await client.evaluations.info(evalId, {
      index,
      waitMs: opts.waitMs ?? DEFAULT_WAIT_MS,
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    });
    const ev = q.data;
    if (!header) {
      ui.info(`Monitoring evaluation "${limit(ev.ID, opts.idLen)}"`);
      header = true;
    }
    const allocs = await client.evaluations.allocations(ev.ID, opts.signal !== undefined ? { signal: opts.signal } : {});
    const next = evalSnapshot(ev, allocs.data ?? []);
    for (const line of evalChangeLines(state, next, opts.idLen)) ui.output(line);
    state = next;
    for (const [k, v] of next.allocs) seen.set(k, v);
    if (isEvalTerminal(ev.Status)) return ev;
    await paceBlockingQuery(index, q.index, started, Date.now(), opts.signal);
    index = Math.max(index, q.index);
  }
}
