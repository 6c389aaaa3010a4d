/**
 * Which cgroup hierarchy this host offers and where the agent itself sits in it.
 *
 * - cgroups v2 (unified): one cgroup2 mount whose `cgroup.controllers` lists memory, cpu and
 *   pids. Task groups go under a root-level parent (`yurt.slice`, as Nomad uses
 *   `nomad.slice`), because v2 forbids enabling controllers below a cgroup that holds
 *   processes, such as the agent's own.
 * - cgroups v1 (including "hybrid" hosts whose cgroup2 mount lacks the memory controller):
 *   one mount per controller. Task groups are nested under the agent's own cgroup in each
 *   hierarchy (read from /proc/self/cgroup), so they inherit whatever limits the agent's
 *   service manager put around it.
 *
 * Sources: cgroups(7), /proc/self/mountinfo in proc(5).
 */
import { readFile } from 'node:fs/promises';
import { join, posix } from 'node:path';

export interface MountEntry {
  /** Path inside the filesystem that is mounted (not "/" for bind mounts and cgroup namespaces). */
  root: string;
  mountPoint: string;
  fsType: string;
  superOptions: string[];
}

export interface CgroupV1Host {
  version: 1;
  /** Controller name → directory of the agent's own cgroup in that controller's hierarchy. */
  own: Record<string, string>;
  /** Controller name → mount point of its hierarchy. */
  mounts: Record<string, string>;
}

export interface CgroupV2Host {
  version: 2;
  mountPoint: string;
  /** Directory of the agent's own cgroup. */
  own: string;
  controllers: string[];
}

export type CgroupHost = CgroupV1Host | CgroupV2Host;
export type CgroupDetection = { host: CgroupHost; reason?: undefined } | { host: null; reason: string };

/** Controllers the exec driver needs; cpuacct and cpuset are used when present. */
export const REQUIRED_V1 = ['memory', 'cpu', 'pids', 'freezer'] as const;
export const REQUIRED_V2 = ['memory', 'cpu', 'pids'] as const;

/** Parse /proc/<pid>/mountinfo. Octal escapes (\040 for space) in paths are decoded. */
export function parseMountinfo(text: string): MountEntry[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    const sep = line.indexOf(' - ');
    if (sep < 0) continue;
    const pre = line.slice(0, sep).split(' ');
    const post = line.slice(sep + 3).split(' ');
    const root = pre[3];
    const mountPoint = pre[4];
    const fsType = post[0];
    if (root === undefined || mountPoint === undefined || fsType === undefined) continue;
    out.push({ root: unescape(root), mountPoint: unescape(mountPoint), fsType, superOptions: (post[2] ?? '').split(',') });
  }
  return out;
}

export interface ProcCgroupLine {
  hierarchyId: number;
  /** Empty for the v2 line ("0::/path"); named hierarchies appear as "name=systemd". */
  controllers: string[];
  path: string;
}

/** Parse /proc/<pid>/cgroup ("hierarchy-ID:controller-list:cgroup-path" per line). */
export function parseProcCgroup(text: string): ProcCgroupLine[] {
  const out: ProcCgroupLine[] = [];
  for (const line of text.split('\n')) {
    const m = /^(\d+):([^:]*):(.*)$/.exec(line.trim());
    if (m === null) continue;
    out.push({ hierarchyId: Number(m[1]), controllers: m[2] === '' ? [] : (m[2] ?? '').split(','), path: m[3] ?? '/' });
  }
  return out;
}

/** Where cgroup `path` of a hierarchy mounted as `mount` lives on disk, or null if outside the mount. */
export function cgroupDir(mount: MountEntry, path: string): string | null {
  const rel = posix.relative(mount.root, path);
  if (rel.startsWith('..')) return null;
  return rel === '' ? mount.mountPoint : join(mount.mountPoint, rel);
}

export interface DetectOptions {
  /** Directory holding `mountinfo` and `cgroup` of the process to look at. Default /proc/self. */
  procSelf?: string;
}

/** Find the usable hierarchy; a `reason` explains why there is none. */
export async function detectCgroups(opts: DetectOptions = {}): Promise<CgroupDetection> {
  const procSelf = opts.procSelf ?? '/proc/self';
  let mounts: MountEntry[];
  let lines: ProcCgroupLine[];
  try {
    mounts = parseMountinfo(await readFile(join(procSelf, 'mountinfo'), 'utf8'));
    lines = parseProcCgroup(await readFile(join(procSelf, 'cgroup'), 'utf8'));
  } catch (e) {
    return { host: null, reason: `cannot read ${procSelf}/mountinfo or cgroup: ${(e as Error).message}` };
  }

  const v2Mount = mounts.find((m) => m.fsType === 'cgroup2');
  const v2Line = lines.find((l) => l.hierarchyId === 0);
  if (v2Mount !== undefined && v2Line !== undefined) {
    const controllers = await readFile(join(v2Mount.mountPoint, 'cgroup.controllers'), 'utf8')
      .then((t) => t.trim().split(/\s+/).filter((c) => c !== ''))
      .catch(() => [] as string[]);
    const own = cgroupDir(v2Mount, v2Line.path);
    if (controllers.includes('memory') && own !== null) {
      const missing = REQUIRED_V2.filter((c) => !controllers.includes(c));
      if (missing.length > 0) return { host: null, reason: `cgroup v2 lacks controllers: ${missing.join(', ')}` };
      return { host: { version: 2, mountPoint: v2Mount.mountPoint, own, controllers } };
    }
  }

  const own: Record<string, string> = {};
  const mountOf: Record<string, string> = {};
  for (const m of mounts) {
    if (m.fsType !== 'cgroup') continue;
    // Super options mix controller names with flags (rw, clone_children, ...): keep the
    // names /proc/self/cgroup lists as controllers.
    const ctrls = m.superOptions.filter((o) => lines.some((l) => l.hierarchyId !== 0 && l.controllers.includes(o)));
    const line = lines.find((l) => l.hierarchyId !== 0 && ctrls.some((c) => l.controllers.includes(c)));
    if (line === undefined) continue;
    const dir = cgroupDir(m, line.path);
    if (dir === null) continue;
    for (const c of ctrls) {
      if (own[c] !== undefined) continue;
      own[c] = dir;
      mountOf[c] = m.mountPoint;
    }
  }
  if (own['memory'] === undefined) {
    return { host: null, reason: v2Mount !== undefined ? 'cgroup v2 without the memory controller and no v1 memory hierarchy' : 'no cgroup hierarchy with the memory controller is mounted' };
  }
  const missing = REQUIRED_V1.filter((c) => own[c] === undefined);
  if (missing.length > 0) return { host: null, reason: `cgroup v1 lacks controllers: ${missing.join(', ')}` };
  return { host: { version: 1, own, mounts: mountOf } };
}
