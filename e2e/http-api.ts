/**
 * The cluster's HTTP API (/v1, Nomad's dialect) from the host. Requests go to the servers the
 * harness believes reachable, first answer wins: a scenario that kills or isolates a server
 * keeps talking to the others, as a load balancer in front of the servers would.
 */
import type { AllocListStub, Allocation } from '../structs/alloc.js';
import type { Evaluation } from '../structs/eval.js';
import type { JobListStub } from '../structs/job.js';
import type { Node, NodeListStub } from '../structs/node.js';

const REQUEST_TIMEOUT_MS = 5_000;

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly url: string,
    body: string,
  ) {
    super(`${url}: HTTP ${status}: ${body.slice(0, 500)}`);
  }
}

/** /v1/agent/self, the parts the suite reads. */
export interface AgentSelf {
  member: { Name: string; Tags: Record<string, string> } | null;
  stats: { raft?: Record<string, unknown>; client?: { node_id: string } };
}

export async function requestJson<T>(baseUrl: string, method: string, path: string, body?: unknown): Promise<T> {
  const url = `${baseUrl}${path}`;
  const res = await fetch(url, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
  });
  const text = await res.text();
  if (!res.ok) throw new ApiError(res.status, `${method} ${url}`, text);
  return (text === '' ? null : JSON.parse(text)) as T;
}

export class Api {
  /** `bases` lists the base URLs (http://ip:4646) to try, in order of preference. */
  constructor(private readonly bases: () => string[]) {}

  async request<T>(method: string, path: string, body?: unknown): Promise<T> {
    const errors: string[] = [];
    for (const base of this.bases()) {
      try {
        return await requestJson<T>(base, method, path, body);
      } catch (e) {
        // A 4xx is the answer (not found, bad request): asking another server would not help.
        if (e instanceof ApiError && e.status >= 400 && e.status < 500) throw e;
        errors.push(e instanceof Error ? `${base}: ${e.message}` : String(e));
      }
    }
    throw new Error(`no server answered ${method} ${path}: ${errors.join('; ') || 'no servers to ask'}`);
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  jobs(): Promise<JobListStub[]> {
    return this.get('/v1/jobs');
  }

  jobAllocs(jobId: string): Promise<AllocListStub[]> {
    return this.get(`/v1/job/${encodeURIComponent(jobId)}/allocations?all=true`);
  }

  jobEvals(jobId: string): Promise<Evaluation[]> {
    return this.get(`/v1/job/${encodeURIComponent(jobId)}/evaluations`);
  }

  alloc(id: string): Promise<Allocation> {
    return this.get(`/v1/allocation/${id}`);
  }

  nodes(): Promise<NodeListStub[]> {
    return this.get('/v1/nodes');
  }

  node(id: string): Promise<Node> {
    return this.get(`/v1/node/${id}`);
  }
}

/** Allocations the scheduler still wants running (desired run, not finished on the client). */
export function isLive(a: Pick<AllocListStub, 'DesiredStatus' | 'ClientStatus'>): boolean {
  return a.DesiredStatus === 'run' && (a.ClientStatus === 'pending' || a.ClientStatus === 'running');
}

export function shortAllocs(allocs: readonly AllocListStub[]): string {
  return allocs.map((a) => `${a.ID.slice(0, 8)} v${a.JobVersion} ${a.NodeName} ${a.DesiredStatus}/${a.ClientStatus}`).join(', ') || '(none)';
}
