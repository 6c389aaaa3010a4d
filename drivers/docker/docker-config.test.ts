import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_CPU_CFS_PERIOD_US, DEFAULT_IMAGE_PULL_TIMEOUT_MS, parseDockerConfig, validateDockerConfig } from './docker-config.js';

void describe('docker task config', () => {
  void it('accepts the full Nomad shape, HCL blocks as lists of objects', () => {
    const config = {
      image: 'redis:7',
      command: '/bin/sh',
      args: ['-c', 'echo hi'],
      entrypoint: ['/bin/tini', '--'],
      ports: ['http', 'db'],
      network_mode: 'bridge',
      volumes: ['data:/data', '/srv/x:/x:ro'],
      mount: [
        { type: 'bind', source: 'local/conf', target: '/etc/conf', readonly: true },
        { type: 'tmpfs', target: '/scratch' },
        { source: 'cache', target: '/cache' },
      ],
      labels: [{ team: 'web', tier: 2 }],
      work_dir: '/app',
      hostname: 'web-1.example',
      force_pull: false,
      image_pull_timeout: '90s',
      load: 'local/image.tar',
      memory_hard_limit: 512,
      cpu_hard_limit: true,
      cpu_cfs_period: 50000,
      pids_limit: 64,
      privileged: false,
    };
    assert.deepEqual(validateDockerConfig(config), []);
    assert.deepEqual(parseDockerConfig(config), {
      image: 'redis:7',
      command: '/bin/sh',
      args: ['-c', 'echo hi'],
      entrypoint: ['/bin/tini', '--'],
      ports: ['http', 'db'],
      networkMode: 'bridge',
      volumes: [
        { source: 'data', target: '/data', readonly: false },
        { source: '/srv/x', target: '/x', readonly: true },
      ],
      mounts: [
        { type: 'bind', source: 'local/conf', target: '/etc/conf', readonly: true },
        { type: 'tmpfs', source: '', target: '/scratch', readonly: false },
        { type: 'volume', source: 'cache', target: '/cache', readonly: false },
      ],
      labels: { team: 'web', tier: '2' },
      workDir: '/app',
      hostname: 'web-1.example',
      forcePull: false,
      imagePullTimeoutMs: 90_000,
      load: 'local/image.tar',
      memoryHardLimitMB: 512,
      cpuHardLimit: true,
      cpuCfsPeriodUs: 50000,
      pidsLimit: 64,
      privileged: false,
    });
  });

  void it('fills Nomad defaults; JSON-style plain objects work for labels and mount', () => {
    const c = parseDockerConfig({ image: 'busybox:1', labels: { a: 'b' }, mount: { type: 'tmpfs', target: '/t' } });
    assert.equal(c.imagePullTimeoutMs, DEFAULT_IMAGE_PULL_TIMEOUT_MS);
    assert.equal(c.cpuCfsPeriodUs, DEFAULT_CPU_CFS_PERIOD_US);
    assert.deepEqual([c.command, c.entrypoint, c.networkMode, c.memoryHardLimitMB, c.pidsLimit], [null, null, null, 0, 0]);
    assert.deepEqual(c.labels, { a: 'b' });
    assert.equal(c.mounts.length, 1);
    assert.deepEqual(validateDockerConfig({ image: 'busybox:1', labels: { a: 'b' }, mount: { type: 'tmpfs', target: '/t' } }), []);
  });

  void it('reports every problem with its field', () => {
    const errors = validateDockerConfig({
      command: '',
      args: 'x',
      ports: ['http', 'http'],
      network_mode: 'no spaces',
      volumes: ['justone', 'a:relative', 'a:/b:rx'],
      mount: [{ type: 'nfs', target: '/x', source: 's' }, { type: 'bind' }, { type: 'tmpfs', source: 'x', target: '/t', size: 3 }],
      labels: { 'com.yurt.task_id': 'forged' },
      work_dir: 'relative',
      hostname: '-bad-',
      force_pull: 'yes',
      image_pull_timeout: '5 minutes',
      load: '../../etc/shadow',
      memory_hard_limit: 1.5,
      cpu_cfs_period: 10,
      pids_limit: -1,
      imagee: 'typo',
    });
    assert.deepEqual(errors, [
      'config.image: required (the Docker image to run)',
      'config.command: must be a non-empty string',
      'config.args: must be a list of strings',
      'config.ports: port label "http" is listed twice',
      'config.network_mode: "no spaces" is not a network mode (bridge, host, none, container:<name> or a network name)',
      'config.volumes[0]: "justone" is not "host_path:container_path[:ro]"',
      'config.volumes[1]: container path "relative" must be absolute',
      'config.volumes[2]: mode "rx" must be ro or rw',
      'config.mount[0].type: must be bind, volume or tmpfs, got "nfs"',
      'config.mount[1].target: required (the path inside the container)',
      'config.mount[1].source: required for a "bind" mount',
      'config.mount[2].size: unknown option (supported: type, source, target, readonly)',
      'config.mount[2].source: a tmpfs mount has no source',
      'config.labels.com.yurt.task_id: labels starting with "com.yurt." are reserved for yurt',
      'config.work_dir: must be an absolute path inside the container, got "relative"',
      'config.hostname: "-bad-" is not a valid host name',
      'config.force_pull: must be true or false',
      'config.image_pull_timeout: invalid duration "5 minutes": unknown unit " minutes" (valid units: ns, us, ms, s, m, h)',
      'config.load: must be a path inside the task dir (e.g. "local/image.tar"), got "../../etc/shadow"',
      'config.memory_hard_limit: must be a whole number',
      'config.cpu_cfs_period: must be between 1000 and 1000000',
      'config.pids_limit: must be between 0 and 9007199254740991',
      'config.imagee: unknown option (supported: image, command, args, entrypoint, ports, network_mode, volumes, mount, labels, work_dir, hostname, force_pull, image_pull_timeout, load, memory_hard_limit, cpu_hard_limit, cpu_cfs_period, pids_limit, privileged)',
    ]);
  });

  void it('rejects a zero pull timeout, a volume mount given a path, and non-map labels', () => {
    assert.deepEqual(validateDockerConfig({ image: 'x:1', image_pull_timeout: '0s' }), ['config.image_pull_timeout: must be longer than 0']);
    assert.deepEqual(validateDockerConfig({ image: 'x:1', mount: [{ type: 'volume', source: '/host/dir', target: '/d' }] }), [
      `config.mount[0].source: a volume mount's source is a volume name, not a path ("/host/dir"); use type = "bind" for paths`,
    ]);
    assert.deepEqual(validateDockerConfig({ image: 'x:1', labels: ['a=b'] }), ['config.labels: must be a map of strings']);
  });
});
