/**
 * The transport under every API group: builds URLs, sends the token, decodes JSON, reads
 * the blocking-query headers and turns failures into YurtError (see http-error.ts).
 */
import { YurtError } from '../structs/errors.js';
import type { ApiClientConfig } from './config.js';
import { ERROR_CODE_HEADER, errorFromResponse, isAbortError, transportError } from './http-error.js';
import { buildQuery, parseQueryMeta } from './query.js';
import type { QueryOptions, QueryResult, WriteOptions, WriteResult } from './query.js';

export type FetchFn = typeof fetch;
export type WriteMethod = 'POST' | 'PUT' | 'DELETE';

export class HttpApi {
  readonly config: Readonly<ApiClientConfig>;
  private readonly fetchFn: FetchFn;

  constructor(config: ApiClientConfig, fetchFn: FetchFn = fetch) {
    this.config = { ...config };
    this.fetchFn = fetchFn;
  }

  /** The full URL of an API path (`/v1/...`) with the client's region/namespace applied. */
  url(path: string, opts?: QueryOptions | WriteOptions, repeated?: ReadonlyArray<[string, string]>): string {
    const params = buildQuery(this.config, opts);
    // Parameters that may appear more than once (the event stream's `topic`).
    for (const [k, v] of repeated ?? []) params.append(k, v);
    const q = params.toString();
    return `${this.config.address}${path}${q !== '' ? `?${q}` : ''}`;
  }

  /** GET a JSON resource; `index`/`waitMs` in opts make it a blocking query. */
  async query<T>(path: string, opts?: QueryOptions): Promise<QueryResult<T>> {
    const res = await this.send('GET', this.url(path, opts), undefined, opts?.signal);
    const data = await this.decode<T>('GET', res);
    return { data, ...parseQueryMeta(res.headers) };
  }

  /** A write (register, deregister, ...); `body` is sent as JSON. */
  async write<T>(method: WriteMethod, path: string, body?: unknown, opts?: WriteOptions): Promise<WriteResult<T>> {
    const res = await this.send(method, this.url(path, opts), body, opts?.signal);
    const data = await this.decode<T>(method, res);
    return { data, index: parseQueryMeta(res.headers).index };
  }

  /** GET whose body the caller reads itself (log streams); errors are already handled. */
  async stream(path: string, opts?: QueryOptions, repeated?: ReadonlyArray<[string, string]>): Promise<Response> {
    return this.send('GET', this.url(path, opts, repeated), undefined, opts?.signal);
  }

  private async send(method: string, url: string, body: unknown, signal: AbortSignal | undefined): Promise<Response> {
    const headers: Record<string, string> = {};
    if (this.config.token !== undefined && this.config.token !== '') headers['X-Nomad-Token'] = this.config.token;
    if (body !== undefined) headers['Content-Type'] = 'application/json';
    let res: Response;
    try {
      res = await this.fetchFn(url, {
        method,
        headers,
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
        ...(signal !== undefined ? { signal } : {}),
      });
    } catch (err) {
      // The caller asked to stop; that is not a failure to report as one.
      if (isAbortError(err)) throw err;
      throw transportError(method, url, err);
    }
    if (res.status < 200 || res.status >= 300) {
      const text = await res.text().catch(() => '');
      throw errorFromResponse(res.status, res.headers.get(ERROR_CODE_HEADER), text);
    }
    return res;
  }

  private async decode<T>(method: string, res: Response): Promise<T> {
    let text: string;
    try {
      text = await res.text();
    } catch (err) {
      if (isAbortError(err)) throw err;
      throw transportError(method, res.url, err);
    }
    if (text.trim() === '') return null as T;
    try {
      return JSON.parse(text) as T;
    } catch (err) {
      throw new YurtError('internal', `Error decoding response from ${method} ${res.url}: ${(err as Error).message}`, {
        cause: err,
      });
    }
  }
}
