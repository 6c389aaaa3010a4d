/**
 * /v1/client/fs/{ls,stat,cat}/:alloc — read-only browsing of an allocation's directory, as
 * Nomad's client FS endpoints. Every path is confined to the allocation directory: a path
 * that climbs out with `..` is refused (400), and so is one that a symlink leads out of (403),
 * checked on the resolved real path so a task cannot plant a link to the host's files.
 */
import { createReadStream, type Stats } from 'node:fs';
import { lstat, readdir, realpath, stat } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { YurtError } from '../../structs/errors.js';
import type { ApiContext } from './api-context.js';
import type { HandlerResult, RequestContext, Route } from './http-router.js';
import { needServer } from './route-helpers.js';
import { proxyToNode } from './routes-client-fs.js';

/** Nomad's AllocFileInfo. */
export interface AllocFileInfo {
  Name: string;
  IsDir: boolean;
  Size: number;
  FileMode: string;
  /** RFC 3339. */
  ModTime: string;
}

export function allocFsRoutes(ctx: ApiContext): Route[] {
  return [
    { method: 'GET', path: '/v1/client/fs/ls/:alloc', handler: (rc) => onNode(ctx, rc, list) },
    { method: 'GET', path: '/v1/client/fs/stat/:alloc', handler: (rc) => onNode(ctx, rc, statPath) },
    { method: 'GET', path: '/v1/client/fs/cat/:alloc', handler: (rc) => onNode(ctx, rc, cat) },
  ];
}

type FsHandler = (root: string, rc: RequestContext) => Promise<HandlerResult>;

async function onNode(ctx: ApiContext, rc: RequestContext, fn: FsHandler): Promise<HandlerResult> {
  const id = rc.params['alloc']!;
  // A client-only agent serves its own allocations without asking a server.
  if (!ctx.client?.hasAlloc(id)) {
    const server = needServer(ctx);
    const alloc = server.state.allocById(id);
    if (!alloc) throw new YurtError('not_found', 'alloc not found');
    if (!ctx.client || ctx.client.nodeId() !== alloc.NodeID) return proxyToNode(ctx, server, alloc.NodeID, rc);
  }
  const root = join(ctx.client.allocsRoot, id);
  try {
    await stat(root);
  } catch {
    throw new YurtError('not_found', `allocation directory of ${id} does not exist on this node (not started yet, or collected)`);
  }
  return fn(root, rc);
}

/**
 * The real path `requested` names inside `root`. `..` that climbs above the root is a bad
 * request; a symlink anywhere along the path that leads outside is forbidden.
 */
export async function confinedPath(root: string, requested: string): Promise<string> {
  if (requested.includes('\0')) throw new YurtError('invalid_argument', 'path must not contain NUL bytes');
  const rel = requested.replace(/^\/+/, '');
  const lexical = resolve(root, rel);
  if (!isInside(root, lexical)) throw new YurtError('invalid_argument', `path "${requested}" is outside the allocation directory`);
  const realRoot = await realpath(root);
  let real: string;
  try {
    real = await realpath(lexical);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') {
      // A dangling link still must not point out; otherwise it is simply not there.
      const link = await lstat(lexical).catch(() => null);
      if (link?.isSymbolicLink()) throw new YurtError('permission_denied', `path "${requested}" leads outside the allocation directory`);
      throw new YurtError('not_found', `file not found: ${requested}`);
    }
    throw new YurtError('invalid_argument', `cannot resolve path "${requested}": ${(e as Error).message}`);
  }
  if (!isInside(realRoot, real)) throw new YurtError('permission_denied', `path "${requested}" leads outside the allocation directory`);
  return real;
}

function isInside(root: string, p: string): boolean {
  const r = relative(root, p);
  return r === '' || (!r.startsWith(`..${sep}`) && r !== '..' && !isAbsolute(r));
}

function pathParam(rc: RequestContext, required: boolean): string {
  const p = rc.query.get('path');
  if (p === null || p === '') {
    if (required) throw new YurtError('invalid_argument', 'must provide a file path');
    return '/';
  }
  return p;
}

function fileInfo(name: string, st: Stats): AllocFileInfo {
  return { Name: name, IsDir: st.isDirectory(), Size: st.size, FileMode: fileMode(st), ModTime: st.mtime.toISOString() };
}

/** Go's os.FileMode.String(): a type letter then rwx triplets ("drwxr-xr-x", "-rw-r--r--"). */
export function fileMode(st: Stats): string {
  const type = st.isDirectory() ? 'd' : st.isSymbolicLink() ? 'L' : st.isFIFO() ? 'p' : st.isSocket() ? 'S' : st.isCharacterDevice() ? 'c' : st.isBlockDevice() ? 'D' : '-';
  let bits = '';
  for (let i = 8; i >= 0; i--) bits += st.mode & (1 << i) ? 'rwx'[(8 - i) % 3]! : '-';
  return type + bits;
}

async function list(root: string, rc: RequestContext): Promise<HandlerResult> {
  const dir = await confinedPath(root, pathParam(rc, false));
  const st = await stat(dir);
  if (!st.isDirectory()) throw new YurtError('invalid_argument', `${pathParam(rc, false)} is not a directory`);
  const out: AllocFileInfo[] = [];
  for (const name of (await readdir(dir)).sort()) {
    // lstat: a listing shows links as links and never follows them out of the directory.
    const est = await lstat(join(dir, name)).catch(() => null);
    if (est) out.push(fileInfo(name, est));
  }
  return send(rc, out);
}

async function statPath(root: string, rc: RequestContext): Promise<HandlerResult> {
  const requested = pathParam(rc, true);
  const p = await confinedPath(root, requested);
  const name = requested.replace(/\/+$/, '').split('/').pop() ?? '';
  return send(rc, fileInfo(name === '' ? '/' : name, await stat(p)));
}

async function cat(root: string, rc: RequestContext): Promise<HandlerResult> {
  const p = await confinedPath(root, pathParam(rc, true));
  const st = await stat(p);
  if (st.isDirectory()) throw new YurtError('invalid_argument', `${pathParam(rc, true)} is a directory`);
  // A FIFO or device would block or never end; only regular files are read.
  if (!st.isFile()) throw new YurtError('invalid_argument', `${pathParam(rc, true)} is not a regular file`);
  rc.res.statusCode = 200;
  rc.res.setHeader('Content-Type', 'text/plain; charset=utf-8');
  rc.res.setHeader('Content-Length', String(st.size));
  await pipeline(createReadStream(p, { start: 0, end: Math.max(0, st.size - 1) }), rc.res);
  return { raw: true };
}

function send(rc: RequestContext, body: unknown): HandlerResult {
  rc.res.statusCode = 200;
  rc.res.setHeader('Content-Type', 'application/json');
  rc.res.end(JSON.stringify(body));
  return { raw: true };
}
