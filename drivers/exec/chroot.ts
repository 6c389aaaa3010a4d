/**
 * The exec task's root filesystem (Nomad's `chroot_env`), built inside the task's own mount
 * namespace right before its program runs, so nothing is ever mounted in the host's
 * namespace and everything goes away with the namespace:
 *
 *   <taskDir>/.yurt-root   the task's /: bound onto itself, read-only once built
 *     /bin /etc /lib /usr …  read-only binds of the host's (symlinks such as /bin -> usr/bin
 *                            are recreated as symlinks)
 *     /proc                  a fresh procfs of the task's PID namespace
 *     /dev                   binds of null, zero, full, random, urandom, tty, and of the
 *                            nodes of the task's own GPUs (gpu-device-nodes.ts); /dev/fd
 *                            and stdio links; /dev/shm a private tmpfs
 *     /local /secrets /tmp   the task's own dirs, writable
 *     /alloc                 the allocation's shared dir, writable
 *
 * The skeleton (empty directories, symlinks, empty files to bind devices on) is made by the
 * agent on the host before the launch, with plain fs calls: in the namespace only mounts
 * remain, one mount(8) each (a mkdir or ln there would be one more process each, and a
 * process costs milliseconds). Host directories are bound rather than copied (Nomad copies
 * or hard-links them into the task dir): a bind costs one mount, whatever the size of /usr.
 */
import { lstat, mkdir, readlink, symlink, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, join, normalize, relative, resolve } from 'node:path';
import { YurtError } from '../../structs/errors.js';

/** Nomad's default `chroot_env` (client option), host path → path in the task. */
export const DEFAULT_CHROOT_ENV: Readonly<Record<string, string>> = {
  '/bin': '/bin',
  '/etc': '/etc',
  '/lib': '/lib',
  '/lib32': '/lib32',
  '/lib64': '/lib64',
  '/run/resolvconf': '/run/resolvconf',
  '/sbin': '/sbin',
  '/usr': '/usr',
};

/** The device nodes a task gets (bound from the host's /dev). */
export const CHROOT_DEVICES = ['null', 'zero', 'full', 'random', 'urandom', 'tty'];

/** Where the task's directories appear inside the chroot (the docker driver uses the same). */
export const CHROOT_LOCAL_DIR = '/local';
export const CHROOT_SECRETS_DIR = '/secrets';
export const CHROOT_ALLOC_DIR = '/alloc';

/** A list of host paths (same path inside) or a map host path → path inside. */
export type ChrootEnv = readonly string[] | Readonly<Record<string, string>>;

/** One mount of building the root, in order; all paths absolute on the host. */
export type ChrootOp =
  | { op: 'tmpfs'; dir: string; mode: string }
  | { op: 'bind'; src: string; dst: string; readOnly: boolean }
  | { op: 'proc'; dir: string }
  | { op: 'seal'; dir: string };

/** What the skeleton holds (absolute host paths under the root). */
export interface ChrootSkeleton {
  dirs: string[];
  files: string[];
  links: { target: string; path: string }[];
}

export interface ChrootPlan {
  root: string;
  skeleton: ChrootSkeleton;
  ops: ChrootOp[];
  /** Host path of a directory → the path it has inside the chroot, longest first. */
  views: { host: string; inside: string }[];
}

/** Checks a chroot_env value; null when it is fine. */
export function checkChrootEnv(env: ChrootEnv): string | null {
  const pairs = Array.isArray(env) ? (env as readonly string[]).map((p) => [p, p] as const) : Object.entries(env);
  for (const [src, dst] of pairs) {
    if (typeof src !== 'string' || typeof dst !== 'string' || !isAbsolute(src) || !isAbsolute(dst)) {
      return `chrootEnv: ${JSON.stringify(src)} -> ${JSON.stringify(dst)}: both paths must be absolute`;
    }
    const d = normalize(dst);
    if (d === '/' || ['/proc', '/dev', CHROOT_LOCAL_DIR, CHROOT_SECRETS_DIR, '/tmp', CHROOT_ALLOC_DIR].some((r) => d === r || d.startsWith(`${r}/`))) {
      return `chrootEnv: ${dst} is reserved for the task's own mounts`;
    }
  }
  return null;
}

/**
 * The steps that build the task's root. Host paths of chroot_env that do not exist are
 * skipped, as Nomad does (not every host has /lib32 or /run/resolvconf). `devices` are more
 * host device nodes under /dev to bind at the same path (a task's GPUs).
 */
export async function chrootPlan(env: ChrootEnv, taskDir: string, sharedDir: string, devices: readonly string[] = []): Promise<ChrootPlan> {
  const root = join(taskDir, '.yurt-root');
  const at = (p: string) => join(root, p);
  const skeleton: ChrootSkeleton = { dirs: [at('/proc'), at('/dev/shm')], files: [], links: [] };
  // The root is bound onto itself so that it is a mount of its own, which the last step
  // can make read-only.
  const ops: ChrootOp[] = [{ op: 'bind', src: root, dst: root, readOnly: false }];
  const views: { host: string; inside: string }[] = [];
  const pairs = Array.isArray(env) ? (env as readonly string[]).map((p) => [p, p] as const) : Object.entries(env);
  for (const [src, dst] of [...pairs].sort((a, b) => a[1].length - b[1].length)) {
    const st = await lstat(src).catch(() => null);
    if (st === null) continue;
    if (st.isSymbolicLink()) {
      skeleton.links.push({ target: await readlink(src), path: at(dst) });
      continue;
    }
    (st.isDirectory() ? skeleton.dirs : skeleton.files).push(at(dst));
    ops.push({ op: 'bind', src, dst: at(dst), readOnly: true });
    views.push({ host: normalize(src), inside: normalize(dst) });
  }
  ops.push({ op: 'proc', dir: at('/proc') });
  for (const d of CHROOT_DEVICES) {
    skeleton.files.push(at(`/dev/${d}`));
    ops.push({ op: 'bind', src: `/dev/${d}`, dst: at(`/dev/${d}`), readOnly: false });
  }
  for (const d of devices) {
    const p = normalize(d);
    if (!p.startsWith('/dev/') || p.slice(5).includes('/')) throw new YurtError('invalid_argument', `device ${d}: only nodes directly under /dev can be bound into a task`);
    skeleton.files.push(at(p));
    ops.push({ op: 'bind', src: p, dst: at(p), readOnly: false });
  }
  skeleton.links.push({ target: '/proc/self/fd', path: at('/dev/fd') });
  ['stdin', 'stdout', 'stderr'].forEach((s, i) => skeleton.links.push({ target: `/proc/self/fd/${i}`, path: at(`/dev/${s}`) }));
  ops.push({ op: 'tmpfs', dir: at('/dev/shm'), mode: '1777' });
  const own: [string, string][] = [
    [join(taskDir, 'local'), CHROOT_LOCAL_DIR],
    [join(taskDir, 'secrets'), CHROOT_SECRETS_DIR],
    [join(taskDir, 'tmp'), '/tmp'],
    [sharedDir, CHROOT_ALLOC_DIR],
  ];
  for (const [src, dst] of own) {
    skeleton.dirs.push(at(dst));
    ops.push({ op: 'bind', src, dst: at(dst), readOnly: false });
    views.push({ host: resolve(src), inside: dst });
  }
  ops.push({ op: 'seal', dir: root });
  views.sort((a, b) => b.host.length - a.host.length);
  return { root, skeleton, ops, views };
}

/** Make the skeleton on the host. Idempotent: a restarted task finds it already there. */
export async function buildSkeleton(plan: ChrootPlan): Promise<void> {
  await mkdir(plan.root, { recursive: true, mode: 0o755 });
  for (const d of plan.skeleton.dirs) await mkdir(d, { recursive: true, mode: 0o755 });
  for (const f of plan.skeleton.files) {
    await mkdir(dirname(f), { recursive: true, mode: 0o755 });
    await writeFile(f, '', { flag: 'a', mode: 0o644 });
  }
  for (const l of plan.skeleton.links) {
    await mkdir(dirname(l.path), { recursive: true, mode: 0o755 });
    const cur = await readlink(l.path).catch(() => null);
    if (cur === l.target) continue;
    await symlink(l.target, l.path);
  }
}

/**
 * The path a host path has inside the chroot. The program was looked up on the host (PATH
 * or the task dir); one that the chroot does not show cannot run there, which is a clear
 * start error rather than exit 127 in the task's stderr.
 */
export function pathInChroot(plan: ChrootPlan, hostPath: string): string {
  const p = resolve(hostPath);
  for (const v of plan.views) {
    const rel = relative(v.host, p);
    if (rel === '') return v.inside;
    if (!rel.startsWith('..') && !isAbsolute(rel)) return join(v.inside, rel);
  }
  // /bin/sh on a merged-/usr host: /bin is a symlink in the chroot too, so the path holds.
  for (const link of plan.skeleton.links) {
    const inside = `/${relative(plan.root, link.path)}`;
    if (p === inside || p.startsWith(`${inside}/`)) return p;
  }
  throw new YurtError('invalid_argument', `command ${hostPath} is outside the task's chroot (chroot_env: ${plan.views.map((v) => v.host).join(', ')})`);
}

/**
 * The task's environment inside the chroot: the client computes NOMAD_*_DIR as host paths;
 * the task sees its dirs at /alloc, /local and /secrets (as in the docker driver).
 */
export function chrootTaskEnv(env: Record<string, string>): Record<string, string> {
  return { ...env, NOMAD_ALLOC_DIR: CHROOT_ALLOC_DIR, NOMAD_TASK_DIR: CHROOT_LOCAL_DIR, NOMAD_SECRETS_DIR: CHROOT_SECRETS_DIR };
}

/** The ops as the chroot shim's argv words. */
export function chrootOpWords(ops: ChrootOp[]): string[] {
  return ops.flatMap((o): string[] => {
    switch (o.op) {
      case 'tmpfs':
        return ['tmpfs', o.dir, o.mode];
      case 'bind':
        return [o.readOnly ? 'ro' : 'rw', o.src, o.dst];
      case 'proc':
        return ['proc', o.dir];
      case 'seal':
        return ['seal', o.dir];
    }
  });
}

/**
 * argv: mount, the op words, "--", then the program line (the privilege-dropping chroot(8)).
 * Runs inside the task's mount namespace. Reports a failed step on fd 3 (the start fails
 * with it) and "ready" once the root is built, then execs the program line.
 */
export const CHROOT_SHIM = [
  'fail() { echo "err cannot build the task root: $*" >&3; exit 125; }',
  'm=$1; shift',
  'while [ "$1" != -- ]; do',
  '  case $1 in',
  '  tmpfs) "$m" -t tmpfs -o "mode=$3,size=64m,nosuid,nodev" yurt "$2" || fail "tmpfs on $2"; shift 3 ;;',
  '  ro) "$m" --bind -o ro,nosuid "$2" "$3" || fail "bind $2"; shift 3 ;;',
  '  rw) "$m" --bind "$2" "$3" || fail "bind $2"; shift 3 ;;',
  '  proc) "$m" -t proc -o nosuid,nodev,noexec proc "$2" || fail "proc on $2"; shift 2 ;;',
  '  seal) "$m" -o remount,bind,ro,nosuid "$2" || fail "remount $2 read-only"; shift 2 ;;',
  '  *) fail "unknown step $1" ;;',
  '  esac',
  'done',
  'shift',
  'echo ready >&3; exec 3>&-',
  'exec "$@"',
].join('\n');
