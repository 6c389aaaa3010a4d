/**
 * raw_exec: runs the command as the agent's user (or as `task.User`, which needs an agent
 * running as root: privileges are dropped with setpriv right before the exec) with no isolation, in its own session and
 * process group (so stop reaches everything it forks), under a supervisor that records the
 * exit status (drivers/process/supervisor.ts). Like Nomad, it is disabled unless the client
 * enables it, because a task runs with the agent's full privileges.
 */
import type { DriverCapabilities, DriverFingerprint, TaskConfig } from '../driver.js';
import { YurtError } from '../../structs/errors.js';
import { validateCommandConfig } from '../process/command-config.js';
import { dirname } from 'node:path';
import type { TaskIsolation } from '../process/isolation.js';
import { processUser, type ExecLine } from '../process/process-exec.js';
import type { ProcessTaskState } from '../process/task-state.js';
import { prepareTaskDirs, sharedAllocDir } from '../process/task-dirs.js';
import { isAgentUser, resolveTaskUser, setprivArgv } from '../process/task-user.js';
import { SupervisedDriver, type LaunchPlan, type SupervisedDriverOptions } from '../process/supervised-driver.js';

export interface RawExecDriverOptions extends SupervisedDriverOptions {
  /** Nomad's `plugin "raw_exec" { config { enabled = true } }`; the dev-mode client turns it on. */
  enabled?: boolean;
}

export class RawExecDriver extends SupervisedDriver {
  readonly name = 'raw_exec';
  private readonly enabled: boolean;

  constructor(opts: RawExecDriverOptions = {}) {
    super(opts);
    this.enabled = opts.enabled ?? false;
  }

  async fingerprint(): Promise<DriverFingerprint> {
    if (!this.enabled) {
      return {
        detected: false,
        healthy: false,
        healthDescription: 'disabled: raw_exec runs tasks without isolation and must be enabled in the client config',
        attributes: {},
      };
    }
    if (process.platform === 'win32') {
      return { detected: false, healthy: false, healthDescription: 'raw_exec needs a POSIX host', attributes: {} };
    }
    const setsid = await this.program('setsid');
    if (setsid === null) {
      return { detected: true, healthy: false, healthDescription: 'the "setsid" program (util-linux) is not installed', attributes: {} };
    }
    return { detected: true, healthy: true, healthDescription: 'Healthy', attributes: { 'driver.raw_exec': '1' } };
  }

  capabilities(): DriverCapabilities {
    return { sendSignals: true, exec: true, fsIsolation: 'none', hostEnv: true };
  }

  validateConfig(config: Record<string, unknown>): string[] {
    return validateCommandConfig(config);
  }

  protected async plan(cfg: TaskConfig, program: string, args: string[]): Promise<LaunchPlan> {
    if (!this.enabled) throw new YurtError('unavailable', 'raw_exec is disabled on this client');
    if (cfg.task.User === '') return { argv: [program, ...args], isolation: null };
    const user = await resolveTaskUser(cfg.task.User);
    if (isAgentUser(user)) return { argv: [program, ...args], isolation: null };
    if (process.getuid?.() !== 0) {
      throw new YurtError('invalid_argument', `raw_exec: task user "${cfg.task.User}" needs the agent to run as root (it runs as uid ${process.getuid?.()})`);
    }
    await prepareTaskDirs(cfg.taskDir, sharedAllocDir(cfg), user);
    return { argv: setprivArgv(await this.requireProgram('setpriv'), user, [program, ...args]), isolation: null };
  }

  /** In the task dir, with the task's environment, as the user the task runs as. */
  protected async execLine(state: ProcessTaskState, _isolation: TaskIsolation | null, command: string[], env: Record<string, string>): Promise<ExecLine> {
    const user = await processUser(state.pid, this.procRoot);
    const argv = isAgentUser(user) ? command : setprivArgv(await this.requireProgram('setpriv'), user, command);
    // The supervisor's status file lies in the task dir (supervised-driver.ts).
    return { argv, cwd: dirname(state.statusPath), env };
  }

  protected restoreIsolation(): TaskIsolation | null {
    return null;
  }
}
