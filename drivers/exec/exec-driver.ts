/**
 * exec: raw_exec plus isolation. Each task gets its own cgroup (memory hard/soft limit,
 * cpu shares from its MHz, pids limit, reserved cores) that it joins before its first
 * instruction, and PID/mount/UTS/IPC namespaces (`pid_mode`/`ipc_mode`, "private" by
 * default as in Nomad). Needs Linux, root and a writable cgroup hierarchy; without them it
 * fingerprints as undetected, with the reason, so nothing is ever scheduled onto it.
 *
 * Not done (Nomad's exec has them): the chroot built from `chroot_env`, running as
 * `task.user`, capabilities (`cap_add`/`cap_drop`), a network namespace per group.
 */
import { mkdir, rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { DriverCapabilities, DriverFingerprint, TaskConfig } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import { validateCommandConfig, type KeyValidator } from '../process/command-config.js';
import type { TaskIsolation } from '../process/isolation.js';
import { SupervisedDriver, type LaunchPlan, type SupervisedDriverOptions } from '../process/supervised-driver.js';
import { detectCgroups, type CgroupDetection, type CgroupHost } from './cgroup-host.js';
import { taskLimits } from './cgroup-files.js';
import { V1TaskCgroup, v1ParentDir } from './cgroup-v1.js';
import { V2TaskCgroup } from './cgroup-v2.js';
import { namespacedArgv, probeNamespaces, type NamespaceMode, type NamespaceTools } from './namespaces.js';

export interface ExecDriverOptions extends SupervisedDriverOptions {
  /**
   * Parent of the task cgroups. v1: relative to the agent's own cgroup in each hierarchy
   * (default "yurt"), or from the hierarchy root when it starts with "/". v2: from the
   * mount root (default "yurt.slice").
   */
  cgroupParent?: string;
  /** Nomad's `default_pid_mode` / `default_ipc_mode`. Default "private". */
  defaultPidMode?: NamespaceMode;
  defaultIpcMode?: NamespaceMode;
  /** pids.max for tasks that set no `pids_limit`; 0 = unlimited (the default). */
  defaultPidsLimit?: number;
  /** Directory with the agent's mountinfo and cgroup files. Default /proc/self. */
  procSelf?: string;
}

const modeKey: KeyValidator = (v) => (v === 'private' || v === 'host' ? null : 'must be "private" or "host"');
const EXTRA_KEYS: Record<string, KeyValidator> = {
  pid_mode: modeKey,
  ipc_mode: modeKey,
  pids_limit: (v) => (typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? null : 'must be a non-negative integer'),
};

/** A cgroup directory name from the task's identity: readable, unique per start, filesystem-safe. */
export function cgroupName(allocId: string, taskName: string, runId: string): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]/g, '_').slice(0, 100);
  return `${clean(allocId)}.${clean(taskName)}.${runId}`;
}

export class ExecDriver extends SupervisedDriver {
  readonly name = 'exec';
  private readonly opts: ExecDriverOptions;
  private namespaceProbe: Promise<string | null> | null = null;

  constructor(opts: ExecDriverOptions = {}) {
    super(opts);
    this.opts = opts;
  }

  async fingerprint(): Promise<DriverFingerprint> {
    const undetected = (why: string): DriverFingerprint => ({ detected: false, healthy: false, healthDescription: why, attributes: {} });
    if (process.platform !== 'linux') return undetected('exec needs Linux');
    if (process.getuid?.() !== 0) return undetected('exec needs the agent to run as root (to manage cgroups and namespaces)');
    const setsid = await this.program('setsid');
    if (setsid === null) return undetected('the "setsid" program (util-linux) is not installed');
    const det = await this.detect();
    if (det.host === null) return undetected(`no usable cgroups: ${det.reason}`);
    const probe = await this.probeCgroups(det.host);
    if (probe !== null) return undetected(`cgroups are not writable: ${probe}`);
    const nsError = await this.namespaces();
    return {
      detected: true,
      healthy: true,
      healthDescription: nsError === null ? 'Healthy' : `Healthy; namespaces unavailable, tasks share the host's (${nsError})`,
      attributes: {
        'driver.exec': '1',
        'driver.exec.cgroup.version': String(det.host.version),
        'driver.exec.namespaces': nsError === null ? 'pid,mount,uts,ipc' : '',
      },
    };
  }

  capabilities(): DriverCapabilities {
    return { sendSignals: true, exec: false, fsIsolation: 'none' };
  }

  validateConfig(config: Record<string, unknown>): string[] {
    return validateCommandConfig(config, EXTRA_KEYS);
  }

  protected async plan(cfg: TaskConfig, program: string, args: string[], runId: string): Promise<LaunchPlan> {
    const det = await this.detect();
    if (det.host === null) throw new YurtError('unavailable', `exec: no usable cgroups: ${det.reason}`);
    const config = cfg.task.Config;
    const limits = taskLimits({
      memoryMB: cfg.resources.Memory.MemoryMB,
      memoryMaxMB: cfg.resources.Memory.MemoryMaxMB,
      cpuShares: cfg.resources.Cpu.CpuShares,
      pidsLimit: typeof config['pids_limit'] === 'number' ? config['pids_limit'] : (this.opts.defaultPidsLimit ?? 0),
      cpus: cfg.resources.Cpu.ReservedCores,
    });
    const name = cgroupName(cfg.allocId, cfg.task.Name, runId);
    const isolation =
      det.host.version === 1
        ? await V1TaskCgroup.create(det.host, this.parent(det.host), name, limits)
        : await V2TaskCgroup.create(det.host, this.parent(det.host), name, limits);
    try {
      const nsOk = (await this.namespaces()) === null;
      const mode = (key: string, dflt: NamespaceMode | undefined): NamespaceMode =>
        nsOk ? ((config[key] as NamespaceMode | undefined) ?? dflt ?? 'private') : 'host';
      const line = namespacedArgv(await this.tools(), mode('pid_mode', this.opts.defaultPidMode), mode('ipc_mode', this.opts.defaultIpcMode), program, args);
      return { argv: line.argv, reportsReady: line.reportsReady, isolation };
    } catch (e) {
      await isolation.release();
      throw e;
    }
  }

  protected restoreIsolation(state: Record<string, unknown> | undefined): TaskIsolation | null {
    switch (state?.['cgroupVersion']) {
      case 1:
        return V1TaskCgroup.fromState(state);
      case 2:
        return V2TaskCgroup.fromState(state);
      default:
        throw new YurtError('invalid_argument', 'task handle state: exec handle without cgroup state');
    }
  }

  private detect(): Promise<CgroupDetection> {
    return detectCgroups(this.opts.procSelf !== undefined ? { procSelf: this.opts.procSelf } : {});
  }

  private parent(host: CgroupHost): string {
    return this.opts.cgroupParent ?? (host.version === 1 ? 'yurt' : 'yurt.slice');
  }

  /** Create and remove a probe group where task groups will go; null when that works. */
  private async probeCgroups(host: CgroupHost): Promise<string | null> {
    try {
      if (host.version === 1) {
        const dir = join(v1ParentDir(host, 'memory', this.parent(host)), `.probe-${process.pid}`);
        await mkdir(dir, { recursive: true });
        await rmdir(dir);
      } else {
        // Creating a real task group checks delegation of the controllers too.
        const cg = await V2TaskCgroup.create(host, this.parent(host), `.probe-${process.pid}`, taskLimits({ memoryMB: 0, memoryMaxMB: 0, cpuShares: 100, pidsLimit: 0, cpus: [] }));
        await cg.release();
      }
      return null;
    } catch (e) {
      return (e as Error).message;
    }
  }

  private async tools(): Promise<NamespaceTools> {
    return { shell: '/bin/sh', unshare: await this.requireProgram('unshare'), mount: await this.requireProgram('mount') };
  }

  /** Null when namespaces can be made here (probed once per driver instance), else why not. */
  private namespaces(): Promise<string | null> {
    this.namespaceProbe ??= (async () => {
      const unshare = await this.program('unshare');
      const mount = await this.program('mount');
      if (unshare === null || mount === null) return 'unshare or mount (util-linux) is not installed';
      return probeNamespaces({ shell: '/bin/sh', unshare, mount });
    })();
    return this.namespaceProbe;
  }
}
