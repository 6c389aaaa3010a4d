/**
 * TaskConfig for driver tests: a real temp task dir and a task with Nomad's defaults.
 * Shared by the driver test suites; not used by the agent.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskConfig } from '../driver.js';
import type { Task } from '../../structs/job.js';
import { DEFAULT_TASK_CPU_MHZ, DEFAULT_TASK_MEMORY_MB, emptyResources } from '../../structs/resources.js';

export interface FixtureOptions {
  driver: string;
  config: Record<string, unknown>;
  cpu?: number;
  memoryMB?: number;
  memoryMaxMB?: number;
  reservedCores?: number[];
  env?: Record<string, string>;
  name?: string;
}

export interface TaskFixture {
  cfg: TaskConfig;
  dir: string;
  stdout(): Promise<string>;
  stderr(): Promise<string>;
  cleanup(): Promise<void>;
}

let seq = 0;

export async function taskFixture(o: FixtureOptions): Promise<TaskFixture> {
  const dir = await mkdtemp(join(tmpdir(), 'yurt-task-'));
  const name = o.name ?? `t${++seq}`;
  const task: Task = {
    Name: name,
    Driver: o.driver,
    User: '',
    Config: o.config,
    Env: {},
    Services: [],
    Constraints: [],
    Affinities: [],
    Resources: { ...emptyResources(), CPU: o.cpu ?? DEFAULT_TASK_CPU_MHZ, MemoryMB: o.memoryMB ?? DEFAULT_TASK_MEMORY_MB },
    Meta: {},
    KillTimeout: 5e9,
    KillSignal: 'SIGINT',
    LogConfig: { MaxFiles: 10, MaxFileSizeMB: 10 },
    Artifacts: [],
    Templates: [],
    Leader: false,
    ShutdownDelay: 0,
  };
  const allocId = `a${process.pid}-${Date.now()}-${seq}`;
  const cfg: TaskConfig = {
    id: `${allocId}/${name}`,
    allocId,
    jobId: 'test-job',
    taskGroup: 'g',
    task,
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...o.env },
    resources: {
      Cpu: { CpuShares: o.cpu ?? DEFAULT_TASK_CPU_MHZ, ReservedCores: o.reservedCores ?? [] },
      Memory: { MemoryMB: o.memoryMB ?? DEFAULT_TASK_MEMORY_MB, MemoryMaxMB: o.memoryMaxMB ?? 0 },
      Networks: [],
      Devices: [],
    },
    allocDir: dir,
    taskDir: dir,
    stdoutPath: join(dir, 'logs', `${name}.stdout.0`),
    stderrPath: join(dir, 'logs', `${name}.stderr.0`),
  };
  const read = (p: string) => readFile(p, 'utf8').catch(() => '');
  return {
    cfg,
    dir,
    stdout: () => read(cfg.stdoutPath),
    stderr: () => read(cfg.stderrPath),
    cleanup: () => rm(dir, { recursive: true, force: true }),
  };
}
