import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { TaskConfig } from '../driver.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import type { NetworkResource, Port } from '../../structs/resources.js';
import { buildContainerOptions, containerName, cpuQuota, sharedAllocDir, type ContainerOptionsContext } from './container-options.js';
import { parseDockerConfig } from './docker-config.js';

const MB = 1024 * 1024;
const ctx: ContainerOptionsContext = { ownerId: 'node-1', volumesEnabled: false, hostCpu: { totalMHz: 8000, cores: 4 } };

function taskConfig(over: Partial<TaskConfig['resources']> = {}, env: Record<string, string> = {}): TaskConfig {
  return {
    id: 'a1/web',
    allocId: 'a1',
    jobId: 'j',
    taskGroup: 'g',
    task: {
      Name: 'web',
      Driver: 'docker',
      User: '',
      Config: {},
      Env: {},
      Services: [],
      Constraints: [],
      Affinities: [],
      Resources: { CPU: 500, Cores: 0, MemoryMB: 256, MemoryMaxMB: 0, DiskMB: 0, Networks: [], Devices: [] },
      Meta: {},
      KillTimeout: 5e9,
      KillSignal: 'SIGINT',
      LogConfig: { MaxFiles: 3, MaxFileSizeMB: 5 },
      Artifacts: [],
      Templates: [],
      Leader: false,
      ShutdownDelay: 0,
    },
    env: { FOO: 'bar', NOMAD_TASK_DIR: '/data/alloc/a1/web/local', ...env },
    resources: {
      Cpu: { CpuShares: 500, ReservedCores: [] },
      Memory: { MemoryMB: 256, MemoryMaxMB: 0 },
      Networks: [],
      Devices: [],
      ...over,
    },
    allocDir: '/data/alloc/a1',
    taskDir: '/data/alloc/a1/web',
    stdoutPath: '/data/alloc/a1/alloc/logs/web.stdout.0',
    stderrPath: '/data/alloc/a1/alloc/logs/web.stderr.0',
  };
}

const port = (Label: string, Value: number, To = 0): Port => ({ Label, Value, To, HostNetwork: 'default' });
const network = (IP: string, reserved: Port[], dynamic: Port[]): NetworkResource => ({
  Mode: 'host', Device: '', CIDR: '', IP, MBits: 0, ReservedPorts: reserved, DynamicPorts: dynamic,
});

function build(cfg: TaskConfig, config: Record<string, unknown>, c = ctx) {
  return buildContainerOptions(cfg, parseDockerConfig({ image: 'busybox:1', ...config }), c);
}

void describe('container create options', () => {
  void it('image, command line, env with container paths, labels, logging, stop signal', () => {
    const o = build(taskConfig(), { command: '/bin/sh', args: ['-c', 'x'], entrypoint: ['/init'], labels: { team: 'web' }, work_dir: '/w', hostname: 'h1' });
    assert.equal(o.name, 'web-a1');
    assert.equal(o.Image, 'busybox:1');
    assert.deepEqual(o.Cmd, ['/bin/sh', '-c', 'x']);
    assert.deepEqual(o.Entrypoint, ['/init']);
    assert.deepEqual(o.Env, ['FOO=bar', 'NOMAD_TASK_DIR=/local', 'NOMAD_ALLOC_DIR=/alloc', 'NOMAD_SECRETS_DIR=/secrets']);
    assert.deepEqual(o.Labels, {
      team: 'web',
      'com.yurt.driver': 'docker',
      'com.yurt.alloc_id': 'a1',
      'com.yurt.task': 'web',
      'com.yurt.task_id': 'a1/web',
      'com.yurt.job_id': 'j',
      'com.yurt.task_group': 'g',
      'com.yurt.owner': 'node-1',
    });
    assert.equal(o.WorkingDir, '/w');
    assert.equal(o.Hostname, 'h1');
    assert.equal(o.StopSignal, 'SIGINT');
    assert.equal(o.Tty, false);
    assert.deepEqual(o.HostConfig?.LogConfig, { Type: 'json-file', Config: { 'max-size': '5m', 'max-file': '3' } });
  });

  void it('args alone become the command; no owner label without an owner', () => {
    const o = build(taskConfig(), { args: ['serve'] }, { ...ctx, ownerId: '' });
    assert.deepEqual(o.Cmd, ['serve']);
    assert.equal(o.Entrypoint, undefined);
    assert.equal(o.Labels?.['com.yurt.owner'], undefined);
    assert.equal(build(taskConfig(), {}).Cmd, undefined);
  });

  void it('mounts the shared alloc dir, local/ and secrets/ — never the allocation root', () => {
    const o = build(taskConfig(), {});
    assert.deepEqual(o.HostConfig?.Mounts, [
      { Type: 'bind', Source: '/data/alloc/a1/alloc', Target: '/alloc', ReadOnly: false },
      { Type: 'bind', Source: '/data/alloc/a1/web/local', Target: '/local', ReadOnly: false },
      { Type: 'bind', Source: '/data/alloc/a1/web/secrets', Target: '/secrets', ReadOnly: false },
    ]);
    // Given the shared dir itself (the interface's wording), it is mounted as is.
    assert.equal(sharedAllocDir({ ...taskConfig(), allocDir: '/data/alloc/a1/alloc' }), '/data/alloc/a1/alloc');
  });

  void it('memory: MemoryMB alone is the limit; memory_max or memory_hard_limit make it the reservation', () => {
    const plain = build(taskConfig(), {}).HostConfig;
    assert.deepEqual([plain?.Memory, plain?.MemorySwap, plain?.MemoryReservation], [256 * MB, 256 * MB, undefined]);
    const max = build(taskConfig({ Memory: { MemoryMB: 256, MemoryMaxMB: 1024 } }), { memory_hard_limit: 512 }).HostConfig;
    assert.deepEqual([max?.Memory, max?.MemorySwap, max?.MemoryReservation], [1024 * MB, 1024 * MB, 256 * MB]);
    const hard = build(taskConfig(), { memory_hard_limit: 512 }).HostConfig;
    assert.deepEqual([hard?.Memory, hard?.MemoryReservation], [512 * MB, 256 * MB]);
    assert.throws(
      () => build(taskConfig(), { memory_hard_limit: 100 }),
      (e: unknown) => e instanceof ValidationError && e.errors[0]?.path === 'config.memory_hard_limit' && /below the task's memory reservation of 256 MB/.test(e.message),
    );
    assert.throws(() => build(taskConfig({ Memory: { MemoryMB: 4, MemoryMaxMB: 0 } }), {}), /below Docker's minimum of 6 MB/);
  });

  void it('cpu: shares from MHz, cpuset from reserved cores, quota for cpu_hard_limit; pids limit', () => {
    const h = build(taskConfig({ Cpu: { CpuShares: 1000, ReservedCores: [1, 3] } }), { cpu_hard_limit: true, pids_limit: 50 }).HostConfig;
    assert.equal(h?.CpuShares, 1000);
    assert.equal(h?.CpusetCpus, '1,3');
    assert.equal(h?.CpuPeriod, 100_000);
    // 1000 of 8000 MHz over 4 cores: half a core.
    assert.equal(h?.CpuQuota, 50_000);
    assert.equal(h?.PidsLimit, 50);
    const d = build(taskConfig({ Cpu: { CpuShares: 0, ReservedCores: [] } }), {}).HostConfig;
    assert.deepEqual([d?.CpuShares, d?.CpuQuota, d?.CpusetCpus, d?.PidsLimit], [2, undefined, undefined, undefined]);
    assert.equal(cpuQuota(1, 100_000, { totalMHz: 8000, cores: 4 }), 1000, 'never below Docker minimum of 1 ms');
    assert.equal(cpuQuota(99_999, 100_000, { totalMHz: 8000, cores: 4 }), 400_000, 'never above all cores');
  });

  void it('ports: label → host Value published to To (or Value), tcp and udp, on the network IP', () => {
    const cfg = taskConfig({ Networks: [network('10.0.0.5', [port('http', 8080, 80)], [port('admin', 23456)])] });
    const o = build(cfg, { ports: ['http', 'admin'] });
    assert.deepEqual(o.ExposedPorts, { '80/tcp': {}, '80/udp': {}, '23456/tcp': {}, '23456/udp': {} });
    assert.deepEqual(o.HostConfig?.PortBindings, {
      '80/tcp': [{ HostIp: '10.0.0.5', HostPort: '8080' }],
      '80/udp': [{ HostIp: '10.0.0.5', HostPort: '8080' }],
      '23456/tcp': [{ HostIp: '10.0.0.5', HostPort: '23456' }],
      '23456/udp': [{ HostIp: '10.0.0.5', HostPort: '23456' }],
    });
    assert.throws(
      () => build(cfg, { ports: ['grpc'] }),
      (e: unknown) => e instanceof ValidationError && /port label "grpc" is not in the group's network block \(known: http, admin\)/.test(e.message),
    );
    assert.equal(build(taskConfig(), {}).HostConfig?.PortBindings, undefined);
  });

  void it('volumes and bind mounts: relative to the task dir; host paths outside the allocation need volumes enabled', () => {
    const o = build(taskConfig(), { volumes: ['local/conf:/etc/app:ro', '../alloc/data:/shared'], mount: [{ type: 'bind', source: 'secrets', target: '/s', readonly: true }, { type: 'tmpfs', target: '/t' }] });
    assert.deepEqual(o.HostConfig?.Binds, ['/data/alloc/a1/web/local/conf:/etc/app:ro', '/data/alloc/a1/alloc/data:/shared']);
    assert.deepEqual(o.HostConfig?.Mounts?.slice(3), [
      { Type: 'bind', Source: '/data/alloc/a1/web/secrets', Target: '/s', ReadOnly: true },
      { Type: 'tmpfs', Source: '', Target: '/t', ReadOnly: false },
    ]);
    assert.throws(
      () => build(taskConfig(), { volumes: ['/etc:/host-etc'], mount: [{ type: 'volume', source: 'v', target: '/v' }, { type: 'bind', source: '../../../x', target: '/x' }] }),
      (e: unknown) =>
        e instanceof ValidationError &&
        e.errors.map((x) => x.path).join(' ') === 'config.volumes[0] config.mount[0] config.mount[1].source' &&
        /volumes are not enabled on this client/.test(e.message),
    );
    const enabled = build(taskConfig(), { volumes: ['/etc:/host-etc'], mount: [{ type: 'volume', source: 'v', target: '/v' }] }, { ...ctx, volumesEnabled: true });
    assert.deepEqual(enabled.HostConfig?.Binds, ['/etc:/host-etc']);
    assert.equal(enabled.HostConfig?.Mounts?.[3]?.Type, 'volume');
  });

  void it('GPUs: NVIDIA_VISIBLE_DEVICES and an nvidia device request with the allocated IDs', () => {
    const cfg = taskConfig({
      Devices: [
        { Vendor: 'nvidia', Type: 'gpu', Name: 'H100', DeviceIDs: ['GPU-aaaa', 'GPU-bbbb'] },
        { Vendor: 'nvidia', Type: 'gpu', Name: 'H100', DeviceIDs: ['GPU-cccc'] },
      ],
    });
    const o = build(cfg, {});
    assert.ok(o.Env?.includes('NVIDIA_VISIBLE_DEVICES=GPU-aaaa,GPU-bbbb,GPU-cccc'));
    assert.deepEqual(o.HostConfig?.DeviceRequests, [{ Driver: 'nvidia', DeviceIDs: ['GPU-aaaa', 'GPU-bbbb', 'GPU-cccc'], Capabilities: [['gpu']] }]);
    const none = build(taskConfig(), {});
    assert.equal(none.HostConfig?.DeviceRequests, undefined);
    assert.ok(!none.Env?.some((e) => e.startsWith('NVIDIA_VISIBLE_DEVICES=')));
    assert.throws(
      () => build(taskConfig({ Devices: [{ Vendor: 'xilinx', Type: 'fpga', Name: 'u250', DeviceIDs: ['f0'] }] }), {}),
      (e: unknown) => e instanceof YurtError && /xilinx\/fpga\/u250 cannot be given to a docker container/.test(e.message),
    );
  });

  void it('privileged, network mode and the task user pass through; container names are made valid', () => {
    const h = build(taskConfig(), { privileged: true, network_mode: 'host' }).HostConfig;
    assert.deepEqual([h?.Privileged, h?.NetworkMode], [true, 'host']);
    const cfg = taskConfig();
    assert.equal(build(cfg, {}).User, undefined);
    cfg.task.User = 'nobody';
    assert.equal(build(cfg, {}).User, 'nobody');
    cfg.task.Name = 'my task/1';
    assert.equal(containerName(cfg), 'my_task_1-a1');
  });
});
