/**
 * exec: raw_exec plus isolation. Each task gets its own cgroup (memory hard/soft limit,
 * cpu shares from its MHz, pids limit, reserved cores) that it joins before its first
 * instruction, and PID/mount/UTS/IPC namespaces (`pid_mode`/`ipc_mode`, "private" by
 * default as in Nomad). Needs Linux, root and a writable cgroup hierarchy; without them it
 * fingerprints as undetected, with the reason, so nothing is ever scheduled onto it.
 *
 * The task runs as `task.User` (default "nobody", as in Nomad) in a chroot built from
 * `chrootEnv` inside its mount namespace (chroot.ts). Where the host cannot build the
 * chroot, exec still runs with fingerprint attribute `driver.exec.fs_isolation = none`
 * and the reason in its health description, never silently. README.md has the details.
 *
 * Not done (Nomad's exec has them): capabilities (`cap_add`/`cap_drop`), a network
 * namespace per group.
 */
import { mkdir, mkdtemp, readlink, rm, rmdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DriverCapabilities, DriverFingerprint, TaskConfig } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import { validateCommandConfig, type KeyValidator } from '../process/command-config.js';
import type { TaskIsolation } from '../process/isolation.js';
import { findTaskProcess, processUser, type ExecLine } from '../process/process-exec.js';
import { JOIN_SCRIPT } from '../process/supervisor.js';
import type { ProcessTaskState } from '../process/task-state.js';
import { SupervisedDriver, type LaunchPlan, type SupervisedDriverOptions } from '../process/supervised-driver.js';
import { detectCgroups, type CgroupDetection, type CgroupHost } from './cgroup-host.js';
import { taskLimits } from './cgroup-files.js';
import { V1TaskCgroup, v1ParentDir } from './cgroup-v1.js';
import { V2TaskCgroup } from './cgroup-v2.js';
import { prepareTaskDirs, sharedAllocDir } from '../process/task-dirs.js';
import { isAgentUser, resolveTaskUser, setprivArgv, type TaskUser } from '../process/task-user.js';
import { buildSkeleton, checkChrootEnv, chrootOpWords, chrootPlan, chrootTaskEnv, CHROOT_SHIM, DEFAULT_CHROOT_ENV, pathInChroot, type ChrootEnv } from './chroot.js';
import { nvidiaDeviceNodes } from './gpu-device-nodes.js';
import { nvidiaGpuIds } from '../../structs/resources.js';
import { ttyLine } from '../process/exec-tty.js';
import { namespacedArgv, probeNamespaces, runProbe, type NamespaceMode, type NamespaceTools } from './namespaces.js';

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
  /**
   * Nomad's client `chroot_env`: host paths bound read-only into the task's root (a list,
   * or a map host path → path inside). Default DEFAULT_CHROOT_ENV; `false` turns the
   * chroot off (tasks then see the host's filesystem, fs_isolation "none").
   */
  chrootEnv?: ChrootEnv | false;
  /** The user a task runs as when it sets no `user`. Default "nobody" (Nomad's default for exec). */
  defaultUser?: string;
  /** Host device nodes for the assigned NVIDIA GPUs (by UUID). Default nvidiaDeviceNodes (gpu-device-nodes.ts). */
  gpuDeviceNodes?: (uuids: readonly string[]) => Promise<string[]>;
}

/** Nomad runs exec tasks as `nobody` unless the task sets `user`. */
export const DEFAULT_EXEC_USER = 'nobody';

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
  private chrootProbe: Promise<string | null> | null = null;
  private chrootWorks = false;

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
    const chrootError = await this.chroot();
    const reduced = [
      ...(nsError === null ? [] : [`namespaces unavailable, tasks share the host's (${nsError})`]),
      ...(chrootError === null ? [] : [`no chroot, tasks see the host's filesystem (${chrootError})`]),
    ];
    return {
      detected: true,
      healthy: true,
      healthDescription: reduced.length === 0 ? 'Healthy' : `Healthy; ${reduced.join('; ')}`,
      attributes: {
        'driver.exec': '1',
        'driver.exec.cgroup.version': String(det.host.version),
        'driver.exec.namespaces': nsError === null ? 'pid,mount,uts,ipc' : '',
        'driver.exec.fs_isolation': chrootError === null ? 'chroot' : 'none',
      },
    };
  }

  /** fsIsolation is "chroot" once fingerprint() has found that the chroot works here. */
  capabilities(): DriverCapabilities {
    return { sendSignals: true, exec: true, fsIsolation: this.chrootWorks ? 'chroot' : 'none', hostEnv: true };
  }

  validateConfig(config: Record<string, unknown>): string[] {
    return validateCommandConfig(config, EXTRA_KEYS);
  }

  protected async plan(cfg: TaskConfig, program: string, args: string[], runId: string): Promise<LaunchPlan> {
    const det = await this.detect();
    if (det.host === null) throw new YurtError('unavailable', `exec: no usable cgroups: ${det.reason}`);
    const config = cfg.task.Config;
    const user = await this.user(cfg.task.User === '' ? (this.opts.defaultUser ?? DEFAULT_EXEC_USER) : cfg.task.User);
    const shared = sharedAllocDir(cfg);
    await prepareTaskDirs(cfg.taskDir, shared, user);
    const useChroot = (await this.chroot()) === null;
    // Resolve everything a user can get wrong before the cgroup exists.
    const line = useChroot ? await this.chrootLine(cfg.taskDir, shared, user, program, args, await this.gpuNodes(cfg)) : await this.userLine(user, [program, ...args]);
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
      const ns = namespacedArgv(await this.tools(), mode('pid_mode', this.opts.defaultPidMode), mode('ipc_mode', this.opts.defaultIpcMode), line, {
        mountNs: useChroot,
        lineReportsReady: useChroot,
      });
      const launch: LaunchPlan = { argv: ns.argv, reportsReady: ns.reportsReady, isolation };
      if (useChroot) launch.env = chrootTaskEnv(cfg.env);
      return launch;
    } catch (e) {
      await isolation.release();
      throw e;
    }
  }

  /**
   * Join the task's cgroup (as root, before anything else), then nsenter the task's
   * namespaces with its root and working directory and drop to its user, so the command
   * sees exactly what the task sees and counts against its limits.
   */
  protected async execLine(state: ProcessTaskState, isolation: TaskIsolation | null, command: string[], env: Record<string, string>): Promise<ExecLine> {
    const target = await findTaskProcess(state.pid, this.procRoot);
    const user = await processUser(target, this.procRoot);
    const inChroot = (await this.taskRoot(target)) !== '/';
    const argv = [
      ...(await this.enterTask(target, isolation)),
      '--root', '--wd',
      ...(user.uid === 0 ? [] : [`--setuid=${user.uid}`, `--setgid=${user.gid}`]),
      '--', ...command,
    ];
    return { argv, cwd: '/', env: inChroot ? chrootTaskEnv(env) : env };
  }

  /** Join the task's cgroups, then nsenter its mount, UTS, IPC and PID namespaces (options may follow). */
  private async enterTask(target: number, isolation: TaskIsolation | null): Promise<string[]> {
    const nsenter = await this.requireProgram('nsenter');
    const joins = isolation?.joinFiles ?? [];
    return [
      '/bin/sh', '-c', JOIN_SCRIPT, 'yurt-exec-join', String(joins.length), ...joins,
      nsenter, `--target=${target}`, '--mount', '--uts', '--ipc', '--pid',
    ];
  }

  /** The task process's root as the host sees it; "/" when it has no chroot. */
  private taskRoot(target: number): Promise<string> {
    return readlink(join(this.procRoot, String(target), 'root')).catch(() => '/');
  }

  /**
   * A terminal session in a task with its own PID namespace: the terminal must belong to a
   * session inside that namespace, or a shell on it cannot hand the terminal back at exit
   * ("Cannot set tty process group") and reports failure. So `script` runs inside the task's
   * namespaces but outside its root, where the host's /dev/pts still is, and its child enters
   * the root and drops to the task's user.
   */
  protected override async ttyExecLine(state: ProcessTaskState, isolation: TaskIsolation | null, command: string[], env: Record<string, string>): Promise<ExecLine | null> {
    const target = await findTaskProcess(state.pid, this.procRoot);
    const root = await this.taskRoot(target);
    if (root === '/' || target === state.pid) return null;
    const user = await processUser(target, this.procRoot);
    const chroot = await this.requireProgram('chroot');
    const inner = await ttyLine({ argv: [chroot, ...chrootUserArgs(user), root, ...command], cwd: '/', env: chrootTaskEnv(env) });
    const argv = [...(await this.enterTask(target, isolation)), '--', ...inner.argv];
    return { argv, cwd: '/', env: inner.env, makesTerminal: true };
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

  /** The device nodes of the task's NVIDIA GPUs, to bind into its root. */
  private gpuNodes(cfg: TaskConfig): Promise<string[]> {
    return (this.opts.gpuDeviceNodes ?? nvidiaDeviceNodes)(nvidiaGpuIds(cfg.resources.Devices));
  }

  /** The program line inside the chroot: build the root, then chroot(8) drops to the user and execs. */
  private async chrootLine(taskDir: string, shared: string, user: TaskUser, program: string, args: string[], devices: readonly string[]): Promise<string[]> {
    const plan = await chrootPlan(this.chrootEnv(), taskDir, shared, devices);
    const inside = pathInChroot(plan, program);
    await buildSkeleton(plan);
    const [mount, chroot] = await Promise.all([this.requireProgram('mount'), this.requireProgram('chroot')]);
    return ['/bin/sh', '-c', CHROOT_SHIM, 'yurt-chroot', mount, ...chrootOpWords(plan.ops), '--', chroot, ...chrootUserArgs(user), plan.root, inside, ...args];
  }

  private async userLine(user: TaskUser, line: string[]): Promise<string[]> {
    return isAgentUser(user) ? line : setprivArgv(await this.requireProgram('setpriv'), user, line);
  }

  private user(spec: string): Promise<TaskUser> {
    return resolveTaskUser(spec);
  }

  private chrootEnv(): ChrootEnv {
    return this.opts.chrootEnv === false ? [] : (this.opts.chrootEnv ?? DEFAULT_CHROOT_ENV);
  }

  /** Null when tasks get a chroot here (probed once per driver instance), else why not. */
  private chroot(): Promise<string | null> {
    this.chrootProbe ??= (async () => {
      if (this.opts.chrootEnv === false) return 'disabled by the chrootEnv option';
      const bad = checkChrootEnv(this.chrootEnv());
      if (bad !== null) return bad;
      const ns = await this.namespaces();
      if (ns !== null) return `needs a mount namespace: ${ns}`;
      for (const p of ['mount', 'chroot']) if ((await this.program(p)) === null) return `the "${p}" program is not installed`;
      const why = await this.probeChroot();
      this.chrootWorks = why === null;
      return why;
    })();
    return this.chrootProbe;
  }

  /** Build a real task root once in a scratch dir and run /bin/sh in it. */
  private async probeChroot(): Promise<string | null> {
    const dir = await mkdtemp(join(tmpdir(), 'yurt-chroot-probe-'));
    try {
      const root: TaskUser = { uid: 0, gid: 0, groups: [0], spec: 'root' };
      const line = await this.chrootLine(dir, dir, root, '/bin/sh', ['-c', 'test -d /local && test -e /dev/null'], []);
      await prepareTaskDirs(dir, dir, null);
      const tools = await this.tools();
      const { argv } = namespacedArgv(tools, 'private', 'private', line, { mountNs: true, lineReportsReady: true });
      return await runProbe(argv);
    } catch (e) {
      return (e as Error).message;
    } finally {
      await rm(dir, { recursive: true, force: true });
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

/** chroot(8)'s options that drop to the task's user (none for root). */
function chrootUserArgs(user: TaskUser): string[] {
  return user.uid === 0 ? [] : [`--userspec=${user.uid}:${user.gid}`, `--groups=${user.groups.join(',')}`];
}
