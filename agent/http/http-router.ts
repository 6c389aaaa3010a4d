/**
 * A small router for Nomad's `/v1` paths, with what every endpoint shares: JSON bodies with a
 * size limit, typed errors mapped to HTTP statuses (plain-text body as Nomad sends, plus an
 * `X-Yurt-Error-Code` header), and blocking queries (`?index=&wait=`) answered with
 * `X-Nomad-Index`, `X-Nomad-KnownLeader` and `X-Nomad-LastContact`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { asYurtError, YurtError } from '../../structs/errors.js';
import { parseDuration } from '../../structs/duration.js';
import type { TableName } from '../server/state/state-reader.js';

export const MAX_BODY_BYTES = 8 * 1024 * 1024;
/** Nomad's default and maximum blocking-query waits. */
const DEFAULT_WAIT_MS = 5 * 60_000;
const MAX_WAIT_MS = 10 * 60_000;

/** Longest ID, name or prefix taken in a path or query. */
const MAX_ID_CHARS = 512;

export interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  params: Record<string, string>;
  query: URLSearchParams;
  body(): Promise<unknown>;
}

/** What a handler returns: JSON (with the index it reflects), or nothing if it wrote the response itself. */
export type HandlerResult = { json: unknown; index?: number } | { raw: true };

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  /** Tables a blocking query on this route waits on. */
  tables?: TableName[];
  handler: (ctx: RequestContext) => Promise<HandlerResult> | HandlerResult;
}

export interface BlockingSupport {
  waitForChange(tables: readonly TableName[], minIndex: number, timeoutMs: number, signal?: AbortSignal): Promise<number>;
  tableIndex(t: TableName): number;
  knownLeader(): boolean;
  /**
   * Make a read consistent: resolve once this server's state has caught up with what the
   * cluster had committed when the read arrived (immediate on the leader). Reads with
   * `?stale` skip it and are answered from local state by any server, leader or not.
   */
  readBarrier(): Promise<void>;
}

/** Decides whether a request may reach its route's handler; throws a YurtError to refuse. */
export type RouteGuard = (route: Route, rc: RequestContext) => Promise<void>;

interface CompiledRoute extends Route {
  re: RegExp;
  names: string[];
}

export class Router {
  private readonly routes: CompiledRoute[] = [];

  /** @param guard runs before every handler and throws to refuse (authorization: agent/acl). */
  constructor(
    private readonly blocking: BlockingSupport | null,
    private readonly guard: RouteGuard | null = null,
  ) {}

  add(...routes: Route[]): void {
    for (const r of routes) {
      const names: string[] = [];
      const pattern = r.path.replace(/:(\w+)\*?/g, (m, name: string) => {
        names.push(name);
        return m.endsWith('*') ? '(.+)' : '([^/]+)';
      });
      this.routes.push({ ...r, re: new RegExp(`^${pattern}$`), names });
    }
  }

  async dispatch(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const url = new URL(req.url ?? '/', 'http://localhost');
      const matching = this.routes.map((r) => ({ r, m: r.re.exec(url.pathname) })).filter((x) => x.m !== null);
      if (matching.length === 0) throw new YurtError('not_found', `Invalid URL path: ${url.pathname}`);
      // Nomad treats PUT and POST alike on write endpoints; an exact method match wins.
      const hit =
        matching.find((x) => x.r.method === req.method) ??
        matching.find((x) => (req.method === 'PUT' && x.r.method === 'POST') || (req.method === 'POST' && x.r.method === 'PUT'));
      if (!hit) {
        res.setHeader('Allow', [...new Set(matching.map((x) => x.r.method))].join(', '));
        throw new YurtError('method_not_allowed', `Invalid method: ${req.method ?? ''}`);
      }
      const params: Record<string, string> = {};
      hit.r.names.forEach((n, i) => {
        const raw = hit.m![i + 1]!;
        try {
          params[n] = decodeURIComponent(raw);
        } catch {
          throw new YurtError('invalid_argument', `Invalid URL path: malformed escape in ${JSON.stringify(raw)}`);
        }
        // Stored keys are bounded (LMDB: 1978 bytes); no ID or name comes near this.
        if (params[n].length > MAX_ID_CHARS) throw new YurtError('invalid_argument', `Invalid URL path: ${n} is longer than ${MAX_ID_CHARS} characters`);
      });
      const prefix = url.searchParams.get('prefix');
      if (prefix !== null && prefix.length > MAX_ID_CHARS) throw new YurtError('invalid_argument', `prefix is longer than ${MAX_ID_CHARS} characters`);
      // Read once: the guard may need the body (a job's namespace) before the handler does.
      let body: Promise<unknown> | undefined;
      const ctx: RequestContext = { req, res, params, query: url.searchParams, body: () => (body ??= readJsonBody(req)) };
      if (this.guard) await this.guard(hit.r, ctx);
      if (hit.r.method === 'GET' && hit.r.tables && this.blocking && !ctx.query.has('stale')) await this.blocking.readBarrier();
      await this.maybeBlock(hit.r, ctx);
      const out = await hit.r.handler(ctx);
      if ('raw' in out) return;
      const index = out.index ?? this.routeIndex(hit.r);
      res.setHeader('Content-Type', 'application/json');
      res.setHeader('X-Nomad-Index', String(index));
      res.setHeader('X-Nomad-KnownLeader', String(this.blocking?.knownLeader() ?? false));
      res.setHeader('X-Nomad-LastContact', '0');
      const pretty = ctx.query.has('pretty');
      res.end(JSON.stringify(out.json, null, pretty ? 4 : undefined));
    } catch (e) {
      const err = asYurtError(e);
      if (!res.headersSent) {
        res.statusCode = err.httpStatus;
        res.setHeader('Content-Type', 'text/plain; charset=utf-8');
        res.setHeader('X-Yurt-Error-Code', err.code);
        res.end(err.message.endsWith('\n') ? err.message : `${err.message}\n`);
      } else {
        res.destroy();
      }
    }
  }

  private routeIndex(r: Route): number {
    if (!this.blocking || !r.tables) return 0;
    return Math.max(1, ...r.tables.map((t) => this.blocking!.tableIndex(t)));
  }

  /** A GET with `?index=N` waits until the route's tables change past N (or `wait` elapses). */
  private async maybeBlock(r: Route, ctx: RequestContext): Promise<void> {
    const idx = ctx.query.get('index');
    if (r.method !== 'GET' || idx === null || !this.blocking || !r.tables) return;
    const minIndex = Number(idx);
    if (!Number.isInteger(minIndex) || minIndex < 0) throw new YurtError('invalid_argument', `Invalid index: ${idx}`);
    const w = ctx.query.get('wait');
    let waitMs = DEFAULT_WAIT_MS;
    if (w !== null) {
      try {
        waitMs = /^\d+$/.test(w) ? Number(w) : parseDuration(w) / 1e6;
      } catch {
        throw new YurtError('invalid_argument', `Invalid wait time: ${w}`);
      }
    }
    waitMs = Math.min(waitMs, MAX_WAIT_MS);
    // Nomad adds up to wait/16 of jitter so many watchers do not wake in lockstep.
    waitMs += Math.random() * (waitMs / 16);
    const ac = new AbortController();
    ctx.req.once('close', () => ac.abort());
    await this.blocking.waitForChange(r.tables, minIndex, waitMs, ac.signal);
  }
}

async function readJsonBody(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    const b = chunk as Buffer;
    size += b.length;
    if (size > MAX_BODY_BYTES) throw new YurtError('payload_too_large', `Request body too large (limit ${MAX_BODY_BYTES} bytes)`);
    chunks.push(b);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new YurtError('invalid_argument', 'Request body is empty');
  let v: unknown;
  try {
    v = JSON.parse(text) as unknown;
  } catch (e) {
    throw new YurtError('invalid_argument', `Request body is not valid JSON: ${e instanceof Error ? e.message : String(e)}`);
  }
  // Every write endpoint of the API takes an object; anything else is refused here rather
  // than tripping a handler that reads fields from it.
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new YurtError('invalid_argument', 'Request body must be a JSON object');
  return v;
}
