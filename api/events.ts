/**
 * GET /v1/event/stream, like Nomad's `api.EventStream()`: newline-delimited JSON, one line
 * per Raft index with that index's events; `{}` lines are heartbeats and are skipped here.
 */
import type { HttpApi } from './http.js';
import { isAbortError, transportError } from './http-error.js';

export interface StreamEvent {
  Topic: string;
  Type: string;
  Key: string;
  Namespace: string;
  FilterKeys: string[] | null;
  Index: number;
  /** `{Job}`, `{Allocation}`, `{Evaluation}` or `{Node}` by topic. */
  Payload: Record<string, unknown>;
}

export interface EventBatch {
  Index: number;
  Events: StreamEvent[];
}

export interface EventStreamOptions {
  /** `Topic:key` filters (`Job:web`, `Allocation:*`, `Node`); none means every topic. */
  topics?: string[];
  /** Resume: start with the held events at this index and after. 0 starts from now. */
  index?: number;
  /** A namespace, or `*` for all. */
  namespace?: string;
  signal?: AbortSignal;
}

export class Events {
  constructor(private readonly http: HttpApi) {}

  /** Yields each batch as it arrives until the stream ends or `signal` aborts. */
  async *stream(opts: EventStreamOptions = {}): AsyncGenerator<EventBatch> {
    const res = await this.http.stream(
      '/v1/event/stream',
      {
        ...(opts.index !== undefined && opts.index > 0 ? { params: { index: String(opts.index) } } : {}),
        ...(opts.namespace !== undefined ? { namespace: opts.namespace } : {}),
        ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      },
      (opts.topics ?? []).map((t): [string, string] => ['topic', t]),
    );
    if (!res.body) return;
    const decoder = new TextDecoder();
    let buf = '';
    try {
      for await (const chunk of res.body) {
        buf += decoder.decode(chunk as Uint8Array, { stream: true });
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const line = buf.slice(0, nl).trim();
          buf = buf.slice(nl + 1);
          if (line === '' || line === '{}') continue;
          yield JSON.parse(line) as EventBatch;
        }
      }
    } catch (err) {
      if (isAbortError(err)) return;
      throw transportError('GET', res.url, err);
    }
  }
}
