/**
 * Query and write options and the metadata that comes back with every response, as in
 * Nomad's Go api package (api.QueryOptions / api.QueryMeta). Blocking queries are Nomad's:
 * a GET with `?index=N&wait=D` returns once the resource's index passes N or D elapses,
 * and the response's `X-Nomad-Index` is the index to block on next time.
 */

export interface QueryOptions {
  /** Block until the resource's modify index is greater than this. */
  index?: number;
  /** How long the server may hold a blocking query (Nomad caps it at 10 minutes). */
  waitMs?: number;
  /** Allow any server to answer, not only the leader. */
  stale?: boolean;
  /** Only IDs starting with this (list endpoints). */
  prefix?: string;
  /** Overrides the client's namespace for this call. */
  namespace?: string;
  /** Overrides the client's region for this call. */
  region?: string;
  /** A go-bexpr expression over the listed objects' fields (Nomad's `filter`). */
  filter?: string;
  /** Page size for list endpoints (`per_page`); the rest is behind `nextToken`. */
  perPage?: number;
  /** Where the page starts: the `nextToken` of the previous page's metadata. */
  nextToken?: string;
  /** Lists in descending order. */
  reverse?: boolean;
  /** Extra query parameters the endpoint understands (e.g. `purge`). */
  params?: Record<string, string>;
  /** Cancels the request (a blocking query, a followed log). */
  signal?: AbortSignal;
}

export interface WriteOptions {
  namespace?: string;
  region?: string;
  params?: Record<string, string>;
  signal?: AbortSignal;
}

export interface QueryMeta {
  /** `X-Nomad-Index`: pass it back as `index` to block for the next change. */
  index: number;
  /** `X-Nomad-KnownLeader`. */
  knownLeader: boolean;
  /** `X-Nomad-LastContact`, milliseconds since the answering server heard from the leader. */
  lastContactMs: number;
  /** `X-Nomad-NextToken`: where the next page of a paged list starts; '' when this was the last. */
  nextToken: string;
}

export interface QueryResult<T> extends QueryMeta {
  data: T;
}

export interface WriteResult<T> {
  data: T;
  index: number;
}

/** Go's duration syntax, which Nomad's `wait` parameter is parsed with. */
export function formatWait(ms: number): string {
  const whole = Math.max(0, Math.round(ms));
  return whole % 1000 === 0 ? `${whole / 1000}s` : `${whole}ms`;
}

/** The URL query for one request: the client's defaults overridden by per-call options. */
export function buildQuery(
  defaults: { region?: string | undefined; namespace?: string | undefined },
  opts: QueryOptions | WriteOptions | undefined,
): URLSearchParams {
  // Write options are a subset of query options, so one reader covers both.
  const o: QueryOptions = opts ?? {};
  const q = new URLSearchParams();
  const region = o.region ?? defaults.region;
  const namespace = o.namespace ?? defaults.namespace;
  if (region !== undefined && region !== '') q.set('region', region);
  if (namespace !== undefined && namespace !== '') q.set('namespace', namespace);
  if (o.index !== undefined && o.index > 0) q.set('index', String(o.index));
  if (o.waitMs !== undefined && o.waitMs > 0) q.set('wait', formatWait(o.waitMs));
  if (o.stale === true) q.set('stale', 'true');
  if (o.prefix !== undefined && o.prefix !== '') q.set('prefix', o.prefix);
  if (o.filter !== undefined && o.filter !== '') q.set('filter', o.filter);
  if (o.perPage !== undefined && o.perPage > 0) q.set('per_page', String(o.perPage));
  if (o.nextToken !== undefined && o.nextToken !== '') q.set('next_token', o.nextToken);
  if (o.reverse === true) q.set('reverse', 'true');
  for (const [k, v] of Object.entries(o.params ?? {})) q.set(k, v);
  return q;
}

/** Reads Nomad's query metadata headers; missing headers read as "unknown" (0 / false). */
export function parseQueryMeta(headers: Headers): QueryMeta {
  const index = Number(headers.get('x-nomad-index') ?? '0');
  const lastContact = Number(headers.get('x-nomad-lastcontact') ?? '0');
  return {
    index: Number.isFinite(index) && index >= 0 ? index : 0,
    knownLeader: headers.get('x-nomad-knownleader') === 'true',
    lastContactMs: Number.isFinite(lastContact) ? lastContact : 0,
    nextToken: headers.get('x-nomad-nexttoken') ?? '',
  };
}
