/**
 * Task logs: GET /v1/client/fs/logs/:alloc with `plain=true`, which answers raw text
 * (chunked while following), like Nomad's `api.AllocFS().Logs` without the framing.
 */
import type { HttpApi } from './http.js';
import { isAbortError, transportError } from './http-error.js';

export type LogType = 'stdout' | 'stderr';
export type LogOrigin = 'start' | 'end';

export interface LogOptions {
  task: string;
  type?: LogType;
  /** Keep the connection open and stream new output as the task writes it. */
  follow?: boolean;
  origin?: LogOrigin;
  /** Bytes from the origin. */
  offset?: number;
  signal?: AbortSignal;
}

/**
 * Node's fetch gives up on a response body after 300 s without a byte (undici's
 * bodyTimeout), and a quiet task is silent that long. A followed log then reconnects at
 * the current end instead of failing; nothing is lost because nothing was written.
 */
function isIdleTimeout(err: unknown): boolean {
  const cause = err instanceof Error ? (err.cause as { code?: unknown } | undefined) : undefined;
  return cause?.code === 'UND_ERR_BODY_TIMEOUT';
}

export class Logs {
  constructor(private readonly http: HttpApi) {}

  /** The log bytes as they arrive; ends when the server closes the stream. */
  async *read(allocId: string, opts: LogOptions): AsyncGenerator<Uint8Array> {
    let origin = opts.origin ?? 'start';
    let offset = opts.offset ?? 0;
    for (;;) {
      const params: Record<string, string> = {
        task: opts.task,
        type: opts.type ?? 'stdout',
        plain: 'true',
        origin,
        offset: String(offset),
      };
      if (opts.follow === true) params['follow'] = 'true';
      const path = `/v1/client/fs/logs/${encodeURIComponent(allocId)}`;
      const res = await this.http.stream(path, { params, ...(opts.signal !== undefined ? { signal: opts.signal } : {}) });
      if (res.body === null) return;
      const reader = res.body.getReader();
      try {
        for (;;) {
          // Typed here: the reader's result type is DOM-only in this project's lib setting.
          const step = (await reader.read()) as { done: boolean; value?: Uint8Array };
          if (step.done || step.value === undefined) return;
          yield step.value;
        }
      } catch (err) {
        if (isAbortError(err)) throw err;
        if (opts.follow === true && isIdleTimeout(err)) {
          origin = 'end';
          offset = 0;
          continue;
        }
        throw transportError('GET', res.url, err);
      } finally {
        // Stopping early (the consumer broke out, -tail done) must close the connection.
        reader.releaseLock();
        await res.body.cancel().catch(() => undefined);
      }
    }
  }
}
