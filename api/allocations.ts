/** `/v1/allocations` and `/v1/allocation/:id`, like Nomad's `api.Allocations()`. */
import type { AllocListStub, Allocation } from '../structs/alloc.js';
import type { HttpApi } from './http.js';
import { execInAlloc, type ExecCallOptions, type ExecStreams } from './alloc-exec.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';

/** Nomad's AllocStopResponse: the evaluation that replaces the stopped allocation. */
export interface AllocStopResponse {
  EvalID: string;
  Index?: number;
}

export class Allocations {
  constructor(private readonly http: HttpApi) {}

  list(opts?: QueryOptions): Promise<QueryResult<AllocListStub[]>> {
    return this.http.query('/v1/allocations', opts);
  }

  prefixList(prefix: string, opts?: QueryOptions): Promise<QueryResult<AllocListStub[]>> {
    return this.list({ ...opts, prefix });
  }

  info(id: string, opts?: QueryOptions): Promise<QueryResult<Allocation>> {
    return this.http.query(`/v1/allocation/${encodeURIComponent(id)}`, opts);
  }

  /**
   * POST /v1/client/allocation/:id/restart: restart one task in place, or every task when
   * `task` is omitted (Nomad's `{TaskName, AllTasks}`).
   */
  restart(id: string, task?: string, opts?: WriteOptions & { allTasks?: boolean }): Promise<WriteResult<unknown>> {
    const body: { TaskName: string; AllTasks?: boolean } = { TaskName: task ?? '' };
    if (opts?.allTasks === true) body.AllTasks = true;
    return this.http.write('POST', `/v1/client/allocation/${encodeURIComponent(id)}/restart`, body, opts);
  }

  /** POST /v1/client/allocation/:id/signal: send `signal` (e.g. "SIGHUP") to one task, or all. */
  signal(id: string, signal: string, task?: string, opts?: WriteOptions): Promise<WriteResult<unknown>> {
    return this.http.write('POST', `/v1/client/allocation/${encodeURIComponent(id)}/signal`, { Task: task ?? '', Signal: signal }, opts);
  }

  /**
   * GET /v1/client/allocation/:id/exec (websocket): run `command` in a task of the
   * allocation, streaming stdio; resolves with the command's exit code.
   */
  exec(id: string, command: string[], streams: ExecStreams, opts?: ExecCallOptions): Promise<number> {
    return execInAlloc(this.http, id, command, streams, opts);
  }

  /** POST /v1/allocation/:id/stop: stop (and reschedule) one allocation. */
  stop(id: string, opts?: WriteOptions): Promise<WriteResult<AllocStopResponse>> {
    return this.http.write('POST', `/v1/allocation/${encodeURIComponent(id)}/stop`, undefined, opts);
  }
}
