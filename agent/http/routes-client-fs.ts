/**
 * /v1/client/fs/logs/:alloc — a task's stdout/stderr. Served by the agent whose client runs
 * the allocation; any other agent proxies the request to that node's HTTP address, as Nomad
 * does. `plain=true` returns raw bytes; otherwise Nomad's framed JSON (`{Offset, Data, File}`,
 * Data base64). `follow=true` keeps streaming as the file grows until the task is done.
 */
import { X509Certificate } from 'node:crypto';
import { open, stat } from 'node:fs/promises';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { pipeline } from 'node:stream/promises';
import type { ConnectionOptions, PeerCertificate } from 'node:tls';
import { basename, join } from 'node:path';
import { archiveIndexes } from '../client/log-rotator.js';
import { isClientTerminal } from '../../structs/alloc.js';
import { YurtError } from '../../structs/errors.js';
import type { ApiContext } from './api-context.js';
import type { HandlerResult, RequestContext, Route } from './http-router.js';
import { needServer } from './route-helpers.js';
import { allocFsRoutes } from './routes-alloc-fs.js';
import type { Server } from '../server/server.js';
import type { TlsConfig } from '../config/index.js';
import { certificateNames, loadTlsMaterial, roleName, tlsMinVersion } from '../tls/index.js';

const FOLLOW_POLL_MS = 200;

export function clientFsRoutes(ctx: ApiContext): Route[] {
  return [{ method: 'GET', path: '/v1/client/fs/logs/:alloc', handler: (rc) => serveLogs(ctx, rc) }, ...allocFsRoutes(ctx)];
}

/**
 * The caller's credentials, to send on with a request relayed to a node: the node checks the
 * token against its own ACL view, so a relay never lends the server's authority to the
 * caller (and a request without a token stays anonymous there).
 */
export function callerCredentials(req: IncomingMessage): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const h of ['x-nomad-token', 'authorization']) {
    const v = req.headers[h];
    if (typeof v === 'string' && v !== '') headers[h] = v;
  }
  return headers;
}

/**
 * TLS for reaching another node's HTTP API when `tls.http` is on: this agent's certificate
 * (nodes with `verify_https_client` want one from the CA), the CA, and a check that the
 * node's certificate names an agent of this region (client.<region>.yurt, or
 * server.<region>.yurt for a server that is also a client). Host names are not checked:
 * nodes are addressed by IP. The files are read for each relay, so a SIGHUP'd rotation
 * applies here too; relays are rare next to the requests they carry.
 */
export async function nodeTlsOptions(ctx: ApiContext): Promise<ConnectionOptions | null> {
  const config = ctx.config() as { tls?: TlsConfig; region?: unknown } | null;
  const tls = config?.tls;
  if (!tls?.http) return null;
  const region = typeof config?.region === 'string' ? config.region : ctx.region;
  const m = await loadTlsMaterial({ tls, region, server: { enabled: false } });
  if (!m) return null;
  return {
    ...(m.ca !== undefined ? { ca: m.ca } : {}),
    cert: m.cert,
    key: m.key,
    minVersion: tlsMinVersion(tls.tlsMinVersion),
    rejectUnauthorized: true,
    checkServerIdentity: (_host: string, peer: PeerCertificate): Error | undefined => {
      let names = false;
      try {
        const cert = new X509Certificate(peer.raw);
        names = certificateNames(cert, roleName('client', region)) || certificateNames(cert, roleName('server', region));
      } catch {
        names = false;
      }
      return names ? undefined : new Error(`the node's certificate names no agent of region ${region} (it names ${peer.subjectaltname ?? 'nothing'})`);
    },
  };
}

/** Sends a request to a node's HTTP API (HTTPS when tls.http is on) and resolves with its answer. */
export async function requestNode(
  ctx: ApiContext,
  nodeId: string,
  addr: string,
  req: { method: string; path: string; headers: Record<string, string>; body?: string; timeoutMs?: number },
): Promise<IncomingMessage> {
  const tls = await nodeTlsOptions(ctx);
  const url = `${tls ? 'https' : 'http'}://${addr}${req.path}`;
  return new Promise<IncomingMessage>((resolve, reject) => {
    const out = (tls ? httpsRequest : httpRequest)(url, { method: req.method, headers: req.headers, ...(tls ?? {}) }, resolve);
    if (req.timeoutMs !== undefined) out.setTimeout(req.timeoutMs, () => out.destroy(new Error(`no answer in ${req.timeoutMs} ms`)));
    out.on('error', (err) => reject(new YurtError('unavailable', `node ${nodeId} at ${addr} did not answer: ${err.message}`, { cause: err })));
    out.end(req.body);
  });
}

/** Headers that describe one hop's connection, not the answer being relayed. */
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'proxy-connection']);

/** Passes a node's answer on to our caller as it streams (follow=true logs never end on their own). */
export async function relayAnswer(upstream: IncomingMessage, rc: RequestContext): Promise<HandlerResult> {
  rc.res.statusCode = upstream.statusCode ?? 502;
  for (const [k, v] of Object.entries(upstream.headers)) if (v !== undefined && !HOP_BY_HOP.has(k)) rc.res.setHeader(k, v);
  try {
    await pipeline(upstream, rc.res);
  } catch {
    // Our caller went away (or the node did): nothing is left to answer.
    upstream.destroy();
  }
  return { raw: true };
}

/** Relays a request to the agent of the node that runs the allocation, as Nomad's servers do. */
export async function proxyToNode(ctx: ApiContext, server: Server, nodeId: string, rc: RequestContext): Promise<HandlerResult> {
  const node = server.state.nodeById(nodeId);
  if (!node?.HTTPAddr) throw new YurtError('unavailable', `node ${nodeId} has no HTTP address to read from`);
  const upstream = await requestNode(ctx, nodeId, node.HTTPAddr, { method: 'GET', path: rc.req.url ?? '', headers: callerCredentials(rc.req) });
  return relayAnswer(upstream, rc);
}

async function serveLogs(ctx: ApiContext, rc: RequestContext): Promise<HandlerResult> {
  // A client agent serves the logs of its own allocations (servers proxy requests to it);
  // anything else needs a server's state to find the node.
  const local = ctx.client?.allocation(rc.params['alloc']!) ?? null;
  const alloc = local ?? needServer(ctx).state.allocById(rc.params['alloc']!);
  if (!alloc) throw new YurtError('not_found', 'alloc not found');
  const tg = alloc.Job.TaskGroups.find((g) => g.Name === alloc.TaskGroup);
  let task = rc.query.get('task') ?? '';
  if (task === '') {
    if (tg?.Tasks.length === 1) task = tg.Tasks[0]!.Name;
    else throw new YurtError('invalid_argument', 'must include task name');
  }
  if (!tg?.Tasks.some((t) => t.Name === task)) throw new YurtError('not_found', `task "${task}" not found in allocation`);
  const type = rc.query.get('type') ?? 'stdout';
  if (type !== 'stdout' && type !== 'stderr') throw new YurtError('invalid_argument', `invalid log type "${type}"; must be stdout or stderr`);

  if (!ctx.client || ctx.client.nodeId() !== alloc.NodeID) return proxyToNode(ctx, needServer(ctx), alloc.NodeID, rc);

  const logsDir = join(ctx.client.allocsRoot, alloc.ID, 'alloc', 'logs');
  const base = `${task}.${type}`;
  const live = join(logsDir, `${base}.0`);
  const plain = rc.query.get('plain') === 'true';
  const follow = rc.query.get('follow') === 'true';
  const originEnd = rc.query.get('origin') === 'end';
  const offsetParam = Number(rc.query.get('offset') ?? '0');
  if (!Number.isFinite(offsetParam) || offsetParam < 0) throw new YurtError('invalid_argument', 'offset must be a non-negative number');

  // The whole log is the rotated archives (oldest first), then the live file.
  const files = [...(await archiveIndexes(logsDir, base)).map((i) => join(logsDir, `${base}.${i}`)), live];
  const sizes = await Promise.all(files.map((f) => fileSize(f)));
  const total = sizes.reduce((x, y) => x + y, 0);
  let skip = originEnd ? Math.max(0, total - offsetParam) : Math.min(offsetParam, total);
  let offset = skip;
  const res = rc.res;
  res.setHeader('Content-Type', plain ? 'text/plain; charset=utf-8' : 'application/json');
  const emit = (buf: Buffer, file: string): void => {
    if (buf.length === 0) return;
    offset += buf.length;
    res.write(plain ? buf : JSON.stringify({ Offset: offset, Data: buf.toString('base64'), File: `alloc/logs/${basename(file)}` }));
  };
  // Archives first: they no longer change.
  for (let i = 0; i < files.length - 1; i++) {
    const size = sizes[i]!;
    if (skip >= size) {
      skip -= size;
      continue;
    }
    for (let pos = skip; pos < size; ) {
      const chunk = await readFrom(files[i]!, pos);
      if (chunk.length === 0) break;
      emit(chunk, files[i]!);
      pos += chunk.length;
    }
    skip = 0;
  }
  let closed = false;
  rc.req.once('close', () => (closed = true));
  let pos = skip;
  for (;;) {
    const size = await fileSize(live);
    if (size < pos) {
      // Rotated under us (copy-truncate): what we had not read yet went to the newest archive.
      const newest = (await archiveIndexes(logsDir, base)).at(-1);
      if (newest !== undefined) {
        const archived = join(logsDir, `${base}.${newest}`);
        for (let at = pos; ; ) {
          const rest = await readFrom(archived, at);
          if (rest.length === 0) break;
          emit(rest, archived);
          at += rest.length;
        }
      }
      pos = 0;
    }
    const chunk = await readFrom(live, pos);
    emit(chunk, live);
    pos += chunk.length;
    if (!follow || closed) {
      if (chunk.length === 0 || closed) break;
      continue;
    }
    // Follow until the task is dead: the client's own view when it runs the allocation.
    const current = ctx.client?.allocation(alloc.ID) ?? ctx.server?.state.allocById(alloc.ID) ?? null;
    const taskState = ctx.client?.hasAlloc(alloc.ID) ? ctx.client.taskState(alloc.ID, task) : current?.TaskStates[task];
    const done = !current || isClientTerminal(current.ClientStatus) || taskState?.State === 'dead';
    if (done && chunk.length === 0) break;
    if (chunk.length === 0) await new Promise((r) => setTimeout(r, FOLLOW_POLL_MS));
  }
  res.end();
  return { raw: true };
}

async function fileSize(path: string): Promise<number> {
  return stat(path).then(
    (st) => st.size,
    () => 0,
  );
}

async function readFrom(path: string, pos: number): Promise<Buffer> {
  let fh;
  try {
    fh = await open(path, 'r');
  } catch {
    return Buffer.alloc(0);
  }
  try {
    const { size } = await fh.stat();
    if (size <= pos) return Buffer.alloc(0);
    const len = Math.min(size - pos, 1024 * 1024);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, pos);
    return buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
}
