/**
 * TaskConfig + the task's docker config → the Docker engine's container-create body. Pure:
 * no engine calls, so every mapping (resources, ports, mounts, GPUs, labels) is unit tested.
 * Problems only visible with the allocated resources (a port label the network block does
 * not have, a hard memory limit below the reservation) are user errors thrown from here.
 */
import { isAbsolute, join, relative, resolve } from 'node:path';
import type Dockerode from 'dockerode';
import type { TaskConfig } from '../driver.js';
import { ValidationError, YurtError, type FieldError } from '../../structs/errors.js';
import { isNvidiaGpu, nvidiaGpuIds } from '../../structs/resources.js';
import type { DockerTaskConfig } from './docker-config.js';
import {
  DRIVER_NAME,
  LABEL_ALLOC_ID,
  LABEL_DRIVER,
  LABEL_JOB_ID,
  LABEL_OWNER,
  LABEL_TASK,
  LABEL_TASK_GROUP,
  LABEL_TASK_ID,
} from './labels.js';

export interface HostCpu {
  /** Total compute of the host in MHz (cores × MHz), as fingerprinted. */
  totalMHz: number;
  cores: number;
}

export interface ContainerOptionsContext {
  /** Owner label value (the node ID); omitted from the labels when empty. */
  ownerId: string;
  /** Nomad's `volumes { enabled }`: host paths outside the allocation and named volumes. */
  volumesEnabled: boolean;
  hostCpu: HostCpu;
}

/** Where the task's directories appear inside the container (Nomad's docker driver layout). */
export const CONTAINER_ALLOC_DIR = '/alloc';
export const CONTAINER_LOCAL_DIR = '/local';
export const CONTAINER_SECRETS_DIR = '/secrets';

/** Docker refuses memory limits below 6 MB. */
const DOCKER_MIN_MEMORY_BYTES = 6 * 1024 * 1024;
/** Docker refuses CPU quotas below 1 ms per period. */
const DOCKER_MIN_CPU_QUOTA_US = 1000;
/** cpu.shares has a kernel minimum of 2. */
const MIN_CPU_SHARES = 2;
const MB = 1024 * 1024;

/** Docker container names allow [a-zA-Z0-9][a-zA-Z0-9_.-]*; Nomad names containers `<task>-<alloc id>`. */
export function containerName(cfg: TaskConfig): string {
  const task = cfg.task.Name.replace(/[^A-Za-z0-9_.-]/g, '_');
  return `${task}-${cfg.allocId}`.replace(/^[^A-Za-z0-9]+/, '');
}

/**
 * The allocation's shared dir on the host. TaskConfig.allocDir is documented as the shared
 * dir, but in Nomad's layout (<root>/alloc shared, <root>/<task> per task) callers may pass
 * the allocation root instead. The task dir tells which one it is: it lives directly in the
 * root, never in the shared dir. Mounting the root itself would show every sibling task's
 * secrets/ to this container, so the root is never what gets mounted.
 */
export function sharedAllocDir(cfg: TaskConfig): string {
  const rel = relative(resolve(cfg.allocDir), resolve(cfg.taskDir));
  return rel !== '' && isInside(cfg.allocDir, cfg.taskDir) ? join(cfg.allocDir, 'alloc') : cfg.allocDir;
}

export function buildContainerOptions(
  cfg: TaskConfig,
  dc: DockerTaskConfig,
  ctx: ContainerOptionsContext,
): Dockerode.ContainerCreateOptions {
  const errors: FieldError[] = [];
  const labels = taskLabels(cfg, dc, ctx.ownerId);
  const env = containerEnv(cfg);
  const deviceRequests = gpuRequests(cfg, env);
  const { exposed, bindings } = portBindings(cfg, dc, errors);
  const binds = volumeBinds(cfg, dc, ctx, errors);
  const mounts = [...taskDirMounts(cfg), ...mountBlocks(cfg, dc, ctx, errors)];
  const memory = memoryLimits(cfg, dc, errors);
  if (errors.length > 0) throw new ValidationError(`task "${cfg.task.Name}" config for driver docker`, errors);

  const cpuShares = Math.max(MIN_CPU_SHARES, Math.round(cfg.resources.Cpu.CpuShares));
  const hostConfig: Dockerode.HostConfig = {
    Mounts: mounts,
    Memory: memory.limit,
    // Swap equal to the limit means no swap: the task is held to its memory as Nomad does.
    MemorySwap: memory.limit,
    CpuShares: cpuShares,
    Privileged: dc.privileged,
    // The engine's json-file logs back `docker logs` and the driver's log follower; bound
    // them by the task's log settings so the engine's copy cannot fill the disk.
    LogConfig: {
      Type: 'json-file',
      Config: {
        'max-size': `${Math.max(1, cfg.task.LogConfig.MaxFileSizeMB)}m`,
        'max-file': String(Math.max(1, cfg.task.LogConfig.MaxFiles)),
      },
    },
  };
  if (memory.reservation > 0) hostConfig.MemoryReservation = memory.reservation;
  if (binds.length > 0) hostConfig.Binds = binds;
  if (dc.networkMode !== null) hostConfig.NetworkMode = dc.networkMode;
  if (Object.keys(bindings).length > 0) hostConfig.PortBindings = bindings;
  if (dc.pidsLimit > 0) hostConfig.PidsLimit = dc.pidsLimit;
  if (cfg.resources.Cpu.ReservedCores.length > 0) hostConfig.CpusetCpus = cfg.resources.Cpu.ReservedCores.join(',');
  if (dc.cpuHardLimit) {
    hostConfig.CpuPeriod = dc.cpuCfsPeriodUs;
    hostConfig.CpuQuota = cpuQuota(cpuShares, dc.cpuCfsPeriodUs, ctx.hostCpu);
  }
  if (deviceRequests.length > 0) hostConfig.DeviceRequests = deviceRequests;

  const opts: Dockerode.ContainerCreateOptions = {
    name: containerName(cfg),
    Image: dc.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: labels,
    Tty: false,
    OpenStdin: false,
    AttachStdin: false,
    AttachStdout: false,
    AttachStderr: false,
    HostConfig: hostConfig,
  };
  if (dc.command !== null) opts.Cmd = [dc.command, ...dc.args];
  else if (dc.args.length > 0) opts.Cmd = dc.args;
  if (dc.entrypoint !== null) opts.Entrypoint = dc.entrypoint;
  if (dc.workDir !== null) opts.WorkingDir = dc.workDir;
  if (cfg.task.User !== '') opts.User = cfg.task.User;
  if (dc.hostname !== null) opts.Hostname = dc.hostname;
  if (Object.keys(exposed).length > 0) opts.ExposedPorts = exposed;
  // `docker stop` by an operator then uses the task's own kill signal too.
  if (cfg.task.KillSignal !== '') opts.StopSignal = cfg.task.KillSignal;
  return opts;
}

function taskLabels(cfg: TaskConfig, dc: DockerTaskConfig, ownerId: string): Record<string, string> {
  const labels: Record<string, string> = {
    ...dc.labels,
    [LABEL_DRIVER]: DRIVER_NAME,
    [LABEL_ALLOC_ID]: cfg.allocId,
    [LABEL_TASK]: cfg.task.Name,
    [LABEL_TASK_ID]: cfg.id,
    [LABEL_JOB_ID]: cfg.jobId,
    [LABEL_TASK_GROUP]: cfg.taskGroup,
  };
  if (ownerId !== '') labels[LABEL_OWNER] = ownerId;
  return labels;
}

/**
 * The task's environment as the container sees it. The client computes the NOMAD_*_DIR
 * variables as host paths; inside the container the directories are at /alloc, /local and
 * /secrets (Nomad sets them so for drivers with image filesystem isolation).
 */
function containerEnv(cfg: TaskConfig): Record<string, string> {
  return {
    ...cfg.env,
    NOMAD_ALLOC_DIR: CONTAINER_ALLOC_DIR,
    NOMAD_TASK_DIR: CONTAINER_LOCAL_DIR,
    NOMAD_SECRETS_DIR: CONTAINER_SECRETS_DIR,
  };
}

/**
 * NVIDIA GPUs allocated to the task: the engine's device request (what `docker run --gpus`
 * sends; needs the NVIDIA container toolkit on the host) plus NVIDIA_VISIBLE_DEVICES, the
 * variable the toolkit and CUDA read. Sets the variable in `env`.
 */
function gpuRequests(cfg: TaskConfig, env: Record<string, string>): Dockerode.DeviceRequest[] {
  const other = cfg.resources.Devices.find((d) => !isNvidiaGpu(d));
  if (other !== undefined) {
    throw new YurtError(
      'invalid_argument',
      `task "${cfg.task.Name}": device ${other.Vendor}/${other.Type}/${other.Name} cannot be given to a docker container (only nvidia/gpu devices are supported)`,
    );
  }
  const ids = nvidiaGpuIds(cfg.resources.Devices);
  if (ids.length === 0) return [];
  env['NVIDIA_VISIBLE_DEVICES'] = ids.join(',');
  return [{ Driver: 'nvidia', DeviceIDs: ids, Capabilities: [['gpu']] }];
}

/**
 * Each label in `ports` is looked up in the task's allocated networks and published as
 * host Value → container To (Value when To is 0), tcp and udp, on the network's IP.
 */
function portBindings(
  cfg: TaskConfig,
  dc: DockerTaskConfig,
  errors: FieldError[],
): { exposed: Record<string, object>; bindings: Dockerode.PortMap } {
  const exposed: Record<string, object> = {};
  const bindings: Dockerode.PortMap = {};
  for (const label of dc.ports) {
    let found = false;
    for (const net of cfg.resources.Networks) {
      const port = [...net.ReservedPorts, ...net.DynamicPorts].find((p) => p.Label === label);
      if (port === undefined) continue;
      found = true;
      if (port.Value <= 0) {
        errors.push({ path: 'config.ports', message: `port "${label}" has no host port assigned` });
        break;
      }
      const inside = port.To > 0 ? port.To : port.Value;
      for (const proto of ['tcp', 'udp']) {
        const key = `${inside}/${proto}`;
        exposed[key] = {};
        bindings[key] = [...(bindings[key] ?? []), { HostIp: net.IP, HostPort: String(port.Value) }];
      }
      break;
    }
    if (!found) {
      const known = cfg.resources.Networks.flatMap((n) => [...n.ReservedPorts, ...n.DynamicPorts].map((p) => p.Label));
      errors.push({
        path: 'config.ports',
        message: `port label "${label}" is not in the group's network block (known: ${known.length > 0 ? known.join(', ') : 'none'})`,
      });
    }
  }
  return { exposed, bindings };
}

/** alloc/ at /alloc, the task's local/ at /local and secrets/ at /secrets. */
function taskDirMounts(cfg: TaskConfig): Dockerode.MountSettings[] {
  return [
    { Type: 'bind', Source: sharedAllocDir(cfg), Target: CONTAINER_ALLOC_DIR, ReadOnly: false },
    { Type: 'bind', Source: join(cfg.taskDir, 'local'), Target: CONTAINER_LOCAL_DIR, ReadOnly: false },
    { Type: 'bind', Source: join(cfg.taskDir, 'secrets'), Target: CONTAINER_SECRETS_DIR, ReadOnly: false },
  ];
}

/**
 * A host path a task may bind. Relative paths are relative to the task dir; like Nomad,
 * paths inside the allocation are always allowed and anything else needs the client's
 * volumes option, since it exposes the host to the job's author.
 */
function hostPath(cfg: TaskConfig, source: string, ctx: ContainerOptionsContext, path: string, errors: FieldError[]): string {
  const p = isAbsolute(source) ? resolve(source) : resolve(cfg.taskDir, source);
  const inAlloc = isInside(cfg.allocDir, p) || isInside(cfg.taskDir, p);
  if (!inAlloc && !ctx.volumesEnabled) {
    errors.push({
      path,
      message: `host path "${source}" is outside the allocation and volumes are not enabled on this client (docker plugin option volumes.enabled)`,
    });
  }
  return p;
}

function volumeBinds(cfg: TaskConfig, dc: DockerTaskConfig, ctx: ContainerOptionsContext, errors: FieldError[]): string[] {
  return dc.volumes.map((v, i) => {
    const src = hostPath(cfg, v.source, ctx, `config.volumes[${i}]`, errors);
    return `${src}:${v.target}${v.readonly ? ':ro' : ''}`;
  });
}

function mountBlocks(
  cfg: TaskConfig,
  dc: DockerTaskConfig,
  ctx: ContainerOptionsContext,
  errors: FieldError[],
): Dockerode.MountSettings[] {
  return dc.mounts.map((m, i) => {
    const path = `config.mount[${i}]`;
    switch (m.type) {
      case 'bind':
        return { Type: 'bind', Source: hostPath(cfg, m.source, ctx, `${path}.source`, errors), Target: m.target, ReadOnly: m.readonly };
      case 'volume':
        if (!ctx.volumesEnabled) {
          errors.push({ path, message: 'named volumes are not enabled on this client (docker plugin option volumes.enabled)' });
        }
        return { Type: 'volume', Source: m.source, Target: m.target, ReadOnly: m.readonly };
      case 'tmpfs':
        return { Type: 'tmpfs', Source: '', Target: m.target, ReadOnly: m.readonly };
    }
  });
}

/**
 * Nomad's rule: the hard limit is the larger of memory_hard_limit and the task's
 * memory_max; when there is one, the task's memory becomes the soft reservation.
 */
function memoryLimits(cfg: TaskConfig, dc: DockerTaskConfig, errors: FieldError[]): { limit: number; reservation: number } {
  const soft = cfg.resources.Memory.MemoryMB * MB;
  const hardMB = Math.max(dc.memoryHardLimitMB, cfg.resources.Memory.MemoryMaxMB);
  const result = hardMB > 0 ? { limit: hardMB * MB, reservation: soft } : { limit: soft, reservation: 0 };
  if (hardMB > 0 && hardMB < cfg.resources.Memory.MemoryMB) {
    errors.push({
      path: 'config.memory_hard_limit',
      message: `${hardMB} MB is below the task's memory reservation of ${cfg.resources.Memory.MemoryMB} MB`,
    });
  }
  if (result.limit > 0 && result.limit < DOCKER_MIN_MEMORY_BYTES) {
    errors.push({ path: 'resources.memory', message: `${result.limit / MB} MB is below Docker's minimum of 6 MB` });
  }
  return result;
}

/** The task's share of the host's MHz, as a CFS quota over all cores (Nomad's cpu_hard_limit). */
export function cpuQuota(cpuMHz: number, periodUs: number, host: HostCpu): number {
  if (host.totalMHz <= 0 || host.cores <= 0) return periodUs;
  const quota = Math.floor((cpuMHz / host.totalMHz) * periodUs * host.cores);
  return Math.min(Math.max(quota, DOCKER_MIN_CPU_QUOTA_US), periodUs * host.cores);
}

function isInside(dir: string, p: string): boolean {
  const rel = relative(resolve(dir), resolve(p));
  return rel === '' || (rel !== '..' && !rel.startsWith('../') && !isAbsolute(rel));
}
