/**
 * TaskConfig for docker driver tests, on a real temp allocation laid out as the client
 * lays it out (agent/client/alloc-dir.ts, Nomad's layout):
 *   <root>/alloc/{data,logs,tmp}        shared by the group's tasks, /alloc in the container
 *   <root>/<task>/{local,secrets,tmp}   the task's own, /local and /secrets
 */
import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TaskConfig } from '../../driver.js';
import type { Task } from '../../../structs/job.js';
import type { AllocatedDeviceResource, NetworkResource } from '../../../structs/resources.js';
import { DEFAULT_TASK_CPU_MHZ, emptyResources } from '../../../structs/resources.js';

export interface DockerFixtureOptions {
  config: Record<string, unknown>;
  env?: Record<string, string>;
  cpu?: number;
  memoryMB?: number;
  memoryMaxMB?: number;
  networks?: NetworkResource[];
  devices?: AllocatedDeviceResource[];
  name?: string;
  killSignal?: string;
}

export interface DockerTaskFixture {
  cfg: TaskConfig;
  root: string;
  sharedDir: string;
  taskDir: string;
  stdout(): Promise<string>;
  stderr(): Promise<string>;
  cleanup(): Promise<void>;
}

let seq = 0;

export async function dockerTaskFixture(o: DockerFixtureOptions): Promise<DockerTaskFixture> {
  const root = await mkdtemp(join(tmpdir(), 'yurt-docker-'));
  const name = o.name ?? `t${++seq}`;
  const sharedDir = join(root, 'alloc');
  const taskDir = join(root, name);
  await Promise.all([
    ...['data', 'logs', 'tmp'].map((d) => mkdir(join(sharedDir, d), { recursive: true })),
    ...['local', 'secrets', 'tmp'].map((d) => mkdir(join(taskDir, d), { recursive: true })),
  ]);
  const memoryMB = o.memoryMB ?? 64;
  const task: Task = {
    Name: name,
    Driver: 'docker',
    User: '',
    Config: o.config,
    Env: {},
    Services: [],
    Constraints: [],
    Affinities: [],
    Resources: { ...emptyResources(), CPU: o.cpu ?? DEFAULT_TASK_CPU_MHZ, MemoryMB: memoryMB, MemoryMaxMB: o.memoryMaxMB ?? 0 },
    Meta: {},
    KillTimeout: 5e9,
    KillSignal: o.killSignal ?? 'SIGTERM',
    LogConfig: { MaxFiles: 2, MaxFileSizeMB: 1 },
    Artifacts: [],
    Templates: [],
    Leader: false,
    ShutdownDelay: 0,
  };
  // Alloc IDs are UUIDs in the client; the pid and a counter keep parallel test files apart.
  const allocId = `0000${process.pid.toString(16).padStart(4, '0')}-${Date.now().toString(16)}-${(++seq).toString(16)}`;
  const cfg: TaskConfig = {
    id: `${allocId}/${name}`,
    allocId,
    jobId: 'docker-test',
    taskGroup: 'g',
    task,
    env: { ...o.env },
    resources: {
      Cpu: { CpuShares: o.cpu ?? DEFAULT_TASK_CPU_MHZ, ReservedCores: [] },
      Memory: { MemoryMB: memoryMB, MemoryMaxMB: o.memoryMaxMB ?? 0 },
      Networks: o.networks ?? [],
      Devices: o.devices ?? [],
    },
    allocDir: root,
    taskDir,
    stdoutPath: join(sharedDir, 'logs', `${name}.stdout.0`),
    stderrPath: join(sharedDir, 'logs', `${name}.stderr.0`),
  };
  const read = (p: string) => readFile(p, 'utf8').catch(() => '');
  return {
    cfg,
    root,
    sharedDir,
    taskDir,
    stdout: () => read(cfg.stdoutPath),
    stderr: () => read(cfg.stderrPath),
    // Containers run as root and may leave root-owned files; the test runs as root too.
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
