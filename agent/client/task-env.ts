/**
 * A task's runtime environment, as Nomad builds it (developer.hashicorp.com/nomad/docs/runtime/
 * environment and .../runtime/interpolation): the NOMAD_* variables, the ports the scheduler
 * assigned, the job/group/task meta, and `${...}` interpolation of node attributes, node meta and
 * those variables in the task's env, config and args.
 *
 * Interpolation happens here on the client, at task start, because only the client knows the
 * node's attributes, the allocation's ports and its directories.
 */
import type { Allocation } from '../../structs/alloc.js';
import type { Task } from '../../structs/job.js';
import { nvidiaGpuIds, type AllocatedPortMapping, type Port } from '../../structs/resources.js';

export interface TaskEnvNode {
  id: string;
  name: string;
  region: string;
  datacenter: string;
  nodeClass: string;
  nodePool: string;
  /** Node attributes without `attr.` (`kernel.name`, `driver.docker`, ...). */
  attributes: Record<string, string>;
  meta: Record<string, string>;
}

export interface TaskEnvDirs {
  allocDir: string;
  taskDir: string;
  secretsDir: string;
}

/** Nomad's rule for turning a port label or meta key into part of a variable name. */
export function envVarSafe(s: string): string {
  return s.replace(/[^A-Za-z0-9_]/g, '_');
}

function addPort(env: Record<string, string>, label: string, hostIp: string, value: number, to: number): void {
  const l = envVarSafe(label);
  const inTask = to > 0 ? to : value;
  env[`NOMAD_PORT_${l}`] = String(inTask);
  env[`NOMAD_ALLOC_PORT_${l}`] = String(inTask);
  env[`NOMAD_HOST_PORT_${l}`] = String(value);
  if (hostIp !== '') {
    env[`NOMAD_IP_${l}`] = hostIp;
    env[`NOMAD_HOST_IP_${l}`] = hostIp;
    const addr = hostIp.includes(':') ? `[${hostIp}]:${value}` : `${hostIp}:${value}`;
    env[`NOMAD_ADDR_${l}`] = addr;
    env[`NOMAD_HOST_ADDR_${l}`] = addr;
  }
}

function portVars(alloc: Allocation, task: Task): Record<string, string> {
  const env: Record<string, string> = {};
  const res = alloc.AllocatedResources as Allocation['AllocatedResources'] | undefined;
  // Task-level networks (the older `network` inside `resources`) first, so group ports win on a clash.
  for (const net of res?.Tasks[task.Name]?.Networks ?? []) {
    const ports: Port[] = [...net.ReservedPorts, ...net.DynamicPorts];
    for (const p of ports) addPort(env, p.Label, net.IP, p.Value, p.To);
  }
  const shared: AllocatedPortMapping[] = res?.Shared.Ports ?? [];
  for (const p of shared) addPort(env, p.Label, p.HostIP, p.Value, p.To);
  return env;
}

/**
 * The NVIDIA GPUs the scheduler assigned to the task, by UUID. NVIDIA_VISIBLE_DEVICES is what
 * Nomad's nvidia device plugin sets for every driver (the container toolkit reads it);
 * CUDA_VISIBLE_DEVICES is what CUDA itself reads, so a task of exec or raw_exec, which has no
 * container toolkit between it and the driver, sees exactly its GPUs and not its neighbours'.
 * CUDA takes UUIDs there, which stay right however the host numbers its GPUs.
 */
function gpuVars(alloc: Allocation, task: Task): Record<string, string> {
  const res = alloc.AllocatedResources as Allocation['AllocatedResources'] | undefined;
  const ids = nvidiaGpuIds(res?.Tasks[task.Name]?.Devices ?? []);
  if (ids.length === 0) return {};
  return { NVIDIA_VISIBLE_DEVICES: ids.join(','), CUDA_VISIBLE_DEVICES: ids.join(',') };
}

/**
 * The NOMAD_* variables plus the task's own `env` block, interpolated, over `hostEnv` (the
 * agent's environment, for drivers that pass it on: see host-env.ts). The task's values win
 * over everything but can themselves use `${...}`, as in Nomad.
 */
export function buildTaskEnv(alloc: Allocation, task: Task, dirs: TaskEnvDirs, node: TaskEnvNode, hostEnv: Record<string, string> = {}): Record<string, string> {
  const group = alloc.Job.TaskGroups.find((g) => g.Name === alloc.TaskGroup);
  const index = /\[(\d+)\]$/.exec(alloc.Name)?.[1] ?? '0';
  const env: Record<string, string> = {
    // Beneath everything else: a NOMAD_* variable the agent itself was started with never wins.
    ...hostEnv,
    NOMAD_ALLOC_DIR: dirs.allocDir,
    NOMAD_TASK_DIR: dirs.taskDir,
    NOMAD_SECRETS_DIR: dirs.secretsDir,
    NOMAD_ALLOC_ID: alloc.ID,
    NOMAD_SHORT_ALLOC_ID: alloc.ID.slice(0, 8),
    NOMAD_ALLOC_NAME: alloc.Name,
    NOMAD_ALLOC_INDEX: index,
    NOMAD_JOB_ID: alloc.JobID,
    NOMAD_JOB_NAME: alloc.Job.Name,
    ...(alloc.Job.ParentID ? { NOMAD_JOB_PARENT_ID: alloc.Job.ParentID } : {}),
    NOMAD_GROUP_NAME: alloc.TaskGroup,
    NOMAD_TASK_NAME: task.Name,
    NOMAD_NAMESPACE: alloc.Namespace,
    NOMAD_REGION: node.region,
    NOMAD_DC: node.datacenter,
    NOMAD_CPU_LIMIT: String(task.Resources.CPU),
    NOMAD_MEMORY_LIMIT: String(task.Resources.MemoryMB),
    ...(task.Resources.MemoryMaxMB > 0 ? { NOMAD_MEMORY_MAX_LIMIT: String(task.Resources.MemoryMaxMB) } : {}),
    ...portVars(alloc, task),
    ...gpuVars(alloc, task),
  };
  // Meta from job, then group, then task: the most specific wins (Nomad sets the key as written
  // and upper-cased).
  for (const meta of [alloc.Job.Meta, group?.Meta, task.Meta]) {
    for (const [k, v] of Object.entries(meta ?? {})) {
      env[`NOMAD_META_${envVarSafe(k)}`] = v;
      env[`NOMAD_META_${envVarSafe(k).toUpperCase()}`] = v;
    }
  }
  const base = { ...env };
  for (const [k, v] of Object.entries(task.Env)) env[k] = interpolate(v, base, node);
  return env;
}

const NODE_VARS: Record<string, (n: TaskEnvNode) => string> = {
  'node.unique.id': (n) => n.id,
  'node.unique.name': (n) => n.name,
  'node.datacenter': (n) => n.datacenter,
  'node.region': (n) => n.region,
  'node.class': (n) => n.nodeClass,
  'node.pool': (n) => n.nodePool,
};

function lookup(expr: string, env: Record<string, string>, node: TaskEnvNode): string | undefined {
  const e = expr.trim();
  const nodeVar = NODE_VARS[e];
  if (nodeVar !== undefined) return nodeVar(node);
  if (e.startsWith('attr.')) return node.attributes[e.slice(5)];
  if (e.startsWith('meta.')) return node.meta[e.slice(5)];
  const envIndex = /^env\[\s*"([^"]+)"\s*\]$/.exec(e) ?? /^env\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(e);
  if (envIndex !== null) return env[envIndex[1]!];
  if (Object.hasOwn(env, e)) return env[e];
  return undefined;
}

/**
 * Replaces each `${...}` it can resolve; one it cannot is left as written (Nomad does the same,
 * so a typo shows up verbatim in the task's config instead of as an empty string). `$${` is an
 * escaped literal `${`.
 */
export function interpolate(s: string, env: Record<string, string>, node: TaskEnvNode): string {
  if (!s.includes('${')) return s;
  return s.replace(/\$?\$\{([^{}]+)\}/g, (whole, expr: string) => {
    if (whole.startsWith('$$')) return whole.slice(1);
    return lookup(expr, env, node) ?? whole;
  });
}

/** Interpolates every string inside a driver config (nested maps and lists included). */
export function interpolateValue(v: unknown, env: Record<string, string>, node: TaskEnvNode): unknown {
  if (typeof v === 'string') return interpolate(v, env, node);
  if (Array.isArray(v)) return v.map((x) => interpolateValue(x, env, node));
  if (v !== null && typeof v === 'object') {
    return Object.fromEntries(Object.entries(v as Record<string, unknown>).map(([k, x]) => [k, interpolateValue(x, env, node)]));
  }
  return v;
}

/** The task as its driver should see it: config (command, args, image, ...) interpolated. */
export function interpolateTask(task: Task, env: Record<string, string>, node: TaskEnvNode): Task {
  return { ...task, Config: interpolateValue(task.Config, env, node) as Record<string, unknown>, Env: env };
}
