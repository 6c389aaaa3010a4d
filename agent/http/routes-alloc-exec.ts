/**
 * Nomad's `GET /v1/client/allocation/:id/exec?task=&command=<JSON array>&tty=`: a websocket
 * over which a command runs in a task's environment. Frames are JSON text messages, as in
 * Nomad's API docs (api-docs/client#exec-allocation):
 *
 *   client → agent  {"stdin":{"data":"<base64>"}}  {"stdin":{"close":true}}  {"tty_size":{...}}
 *   agent → client  {"stdout":{"data":"<base64>"}} {"stderr":{"data":"<base64>"}}
 *                   {"exited":true,"result":{"exit_code":N}}
 *
 * With `tty=true` the command runs on a terminal sized by the `tty_size` frames
 * (`{"height":H,"width":W}`), and everything it prints comes as `stdout` frames.
 *
 * Everything a user can get wrong (unknown allocation or task, task not running, bad query,
 * ACL) is answered as a plain HTTP error before the upgrade, so clients see a status code.
 * An agent that does not run the allocation but is a server relays the websocket to the
 * node's HTTP address, as routes-client-alloc.ts does for plain requests.
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { PassThrough, Writable } from 'node:stream';
import type { Logger } from 'pino';
import WebSocket, { WebSocketServer, type RawData } from 'ws';
import { asYurtError, YurtError } from '../../structs/errors.js';
import type { RequestGuard } from '../acl/request-guard.js';
import type { ExecTty } from '../../drivers/driver.js';
import type { ApiContext } from './api-context.js';
import { callerCredentials, nodeTlsOptions } from './routes-client-fs.js';

const EXEC_PATH = /^\/v1\/client\/allocation\/([^/]+)\/exec$/;
/** The route as the ACL table names it (agent/acl/route-permissions.ts). */
const EXEC_ROUTE = { method: 'GET', path: '/v1/client/allocation/:alloc/exec' };

export interface ExecRequest {
  allocId: string;
  task: string | undefined;
  command: string[];
  /** `tty=true`: the command runs on a terminal, sized by the client's `tty_size` frames. */
  tty: boolean;
}

/** Whether an upgrade request is for the exec endpoint (other upgrades are refused by the caller). */
export function isExecPath(url: string | undefined): boolean {
  return EXEC_PATH.test(new URL(url ?? '/', 'http://x').pathname);
}

/** The query of an exec request, checked; throws a 400-class error naming the bad parameter. */
export function parseExecRequest(url: string): ExecRequest {
  const u = new URL(url, 'http://x');
  const m = EXEC_PATH.exec(u.pathname);
  if (!m?.[1]) throw new YurtError('not_found', `no route for ${u.pathname}`);
  const allocId = decodeURIComponent(m[1]);
  const raw = u.searchParams.get('command');
  if (raw === null || raw === '') throw new YurtError('invalid_argument', 'command: missing (a JSON array of strings, e.g. ["/bin/sh","-c","id"])');
  let command: unknown;
  try {
    command = JSON.parse(raw);
  } catch {
    throw new YurtError('invalid_argument', `command: not valid JSON: ${raw}`);
  }
  if (!Array.isArray(command) || command.length === 0 || !command.every((c): c is string => typeof c === 'string') || command[0] === '') {
    throw new YurtError('invalid_argument', 'command: must be a non-empty JSON array of strings');
  }
  const tty = u.searchParams.get('tty');
  if (tty !== null && tty !== '' && tty !== 'true' && tty !== 'false') throw new YurtError('invalid_argument', `tty: must be true or false, got "${tty}"`);
  const task = u.searchParams.get('task');
  return { allocId, task: task === null || task === '' ? undefined : task, command, tty: tty === 'true' };
}

/** The 'upgrade' listener for the agent's HTTP server. */
export function allocExecUpgrade(ctx: ApiContext, guard: RequestGuard, logger: Logger): (req: IncomingMessage, socket: Duplex, head: Buffer) => void {
  const wss = new WebSocketServer({ noServer: true });
  return (req, socket, head) => {
    socket.on('error', () => undefined);
    void (async () => {
      try {
        const er = parseExecRequest(req.url ?? '/');
        const query = new URL(req.url ?? '/', 'http://x').searchParams;
        await guard(EXEC_ROUTE, { req, params: { alloc: er.allocId }, query, body: async () => undefined });
        if (ctx.client?.hasAlloc(er.allocId)) {
          ctx.client.checkExec(er.allocId, er.task);
          wss.handleUpgrade(req, socket, head, (ws) => runSession(ctx, er, ws, logger));
          return;
        }
        await relay(ctx, er.allocId, req, socket, head, wss);
      } catch (e) {
        refuse(socket, e instanceof RelayedRefusal ? e.refusal : asYurtError(e));
      }
    })();
  };
}

/** What an upgrade is refused with: a local error, or the answer of the node it was relayed to. */
interface Refusal {
  httpStatus: number;
  code: string;
  message: string;
}

class RelayedRefusal extends Error {
  constructor(readonly refusal: Refusal) {
    super(refusal.message);
  }
}

/** Answer an upgrade request with a plain HTTP error, as the router does for other routes. */
function refuse(socket: Duplex, err: Refusal): void {
  if (socket.destroyed) return;
  const body = err.message.endsWith('\n') ? err.message : `${err.message}\n`;
  const reason = err.httpStatus === 404 ? 'Not Found' : 'Error';
  socket.end(
    `HTTP/1.1 ${err.httpStatus} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Yurt-Error-Code: ${err.code}\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

/**
 * The user's terminal as the client's `tty_size` frames describe it. Nomad's CLI sends one
 * as soon as the socket opens; a terminal session waits for it a moment so the command
 * starts at the right size (24x80 if none comes).
 */
class TerminalSize implements ExecTty {
  rows = 24;
  cols = 80;
  private readonly listeners: Array<(rows: number, cols: number) => void> = [];
  private sized: () => void = () => undefined;
  /** Resolves at the first size, or after `waitMs`. */
  readonly first: Promise<void>;

  constructor(waitMs: number) {
    this.first = new Promise<void>((resolve) => {
      const t = setTimeout(resolve, waitMs);
      this.sized = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }

  set(rows: number, cols: number): void {
    this.rows = rows;
    this.cols = cols;
    this.sized();
    for (const l of this.listeners) l(rows, cols);
  }

  onResize(listener: (rows: number, cols: number) => void): void {
    this.listeners.push(listener);
  }
}

/** A `{"tty_size":{"height":H,"width":W}}` frame's size, when it is one. */
function ttySize(msg: unknown): { rows: number; cols: number } | null {
  const s = (msg as { tty_size?: { height?: unknown; width?: unknown } } | null)?.tty_size;
  if (s === undefined || s === null || typeof s !== 'object') return null;
  const rows = s.height;
  const cols = s.width;
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n < 10_000;
  return ok(rows) && ok(cols) ? { rows, cols } : null;
}

function runSession(ctx: ApiContext, er: ExecRequest, ws: WebSocket, logger: Logger): void {
  const stdin = new PassThrough();
  const abort = new AbortController();
  const terminal = er.tty ? new TerminalSize(250) : null;
  const frame = (stream: 'stdout' | 'stderr') =>
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        if (ws.readyState !== WebSocket.OPEN) return cb();
        ws.send(JSON.stringify({ [stream]: { data: chunk.toString('base64') } }), (err) => cb(err ?? null));
      },
    });
  ws.on('message', (data: RawData, isBinary) => {
    if (isBinary) return;
    let msg: unknown;
    try {
      msg = JSON.parse(rawText(data));
    } catch {
      return;
    }
    const size = ttySize(msg);
    // Without a terminal a size has nothing to resize.
    if (size !== null) terminal?.set(size.rows, size.cols);
    const input = (msg as { stdin?: { data?: unknown; close?: unknown } } | null)?.stdin;
    if (input === undefined || input === null || typeof input !== 'object') return;
    if (typeof input.data === 'string' && !stdin.writableEnded) stdin.write(Buffer.from(input.data, 'base64'));
    if (input.close === true) stdin.end();
  });
  ws.on('close', () => {
    // The user went away: the command must not outlive the session.
    abort.abort();
    stdin.end();
  });
  ws.on('error', () => undefined);
  const client = ctx.client;
  if (!client) {
    ws.close(1011, 'this agent runs no client');
    return;
  }
  (terminal?.first ?? Promise.resolve())
    .then(() =>
      client.execAlloc(er.allocId, er.task, er.command, {
        stdin,
        stdout: frame('stdout'),
        stderr: frame('stderr'),
        signal: abort.signal,
        ...(terminal !== null ? { tty: terminal } : {}),
      }),
    )
    .then(
      (r) => {
        if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify({ exited: true, result: { exit_code: r.exitCode } }), () => ws.close(1000));
      },
      (e: unknown) => {
        const err = asYurtError(e);
        logger.debug({ alloc: er.allocId, err: err.message }, 'alloc exec failed');
        if (ws.readyState !== WebSocket.OPEN) return;
        ws.close(1011, closeReason(err.message));
      },
    );
}

/** A websocket close reason holds at most 123 bytes of UTF-8. */
function closeReason(message: string): string {
  let r = message;
  while (Buffer.byteLength(r) > 123) r = r.slice(0, -1);
  return r;
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data as ArrayBuffer).toString('utf8');
}

/** The allocation runs on another node: open the same websocket there and pass frames both ways. */
async function relay(ctx: ApiContext, allocId: string, req: IncomingMessage, socket: Duplex, head: Buffer, wss: WebSocketServer): Promise<void> {
  const server = ctx.server;
  const alloc = server?.state.allocById(allocId);
  if (!server || !alloc) throw new YurtError('not_found', `Unknown allocation "${allocId}"`);
  if (ctx.client && ctx.client.nodeId() === alloc.NodeID) throw new YurtError('not_found', `allocation ${allocId} is not running on this client`);
  const node = server.state.nodeById(alloc.NodeID);
  if (!node?.HTTPAddr) throw new YurtError('unavailable', `node ${alloc.NodeID} has no HTTP address to forward the request to`);
  const tls = await nodeTlsOptions(ctx);
  const upstream = new WebSocket(`${tls ? 'wss' : 'ws'}://${node.HTTPAddr}${req.url ?? ''}`, {
    headers: callerCredentials(req),
    handshakeTimeout: 30_000,
    // ws hands these to tls.connect; its typing of checkServerIdentity differs from Node's.
    ...((tls ?? {}) as WebSocket.ClientOptions),
  });
  await new Promise<void>((resolve, reject) => {
    upstream.once('open', () => resolve());
    upstream.once('unexpected-response', (_r, res) => {
      // Relay the node's refusal (404, 409, ...) as it was given.
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        const code = res.headers['x-yurt-error-code'];
        reject(new RelayedRefusal({ httpStatus: res.statusCode ?? 502, code: typeof code === 'string' ? code : 'internal', message: body.trim() || `node answered ${res.statusCode}` }));
      });
    });
    upstream.once('error', (e) => reject(new YurtError('unavailable', `node ${alloc.NodeID} at ${node.HTTPAddr} did not answer: ${e.message}`, { cause: e })));
  });
  upstream.on('error', () => undefined);
  wss.handleUpgrade(req, socket, head, (ws) => {
    ws.on('error', () => undefined);
    ws.on('message', (d, isBinary) => {
      if (upstream.readyState === WebSocket.OPEN) upstream.send(rawPayload(d), { binary: isBinary });
    });
    upstream.on('message', (d, isBinary) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(rawPayload(d), { binary: isBinary });
    });
    ws.on('close', () => upstream.close());
    upstream.on('close', (code, reason) => ws.close(code === 1005 || code === 1006 ? 1000 : code, reason));
  });
}

function rawPayload(data: RawData): Buffer {
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data as ArrayBuffer);
}
