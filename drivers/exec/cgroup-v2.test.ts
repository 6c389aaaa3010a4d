import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { taskLimits, v2Weight } from './cgroup-files.js';
import { V2TaskCgroup } from './cgroup-v2.js';

// This machine's kernel binds the memory controller to v1, so no v2 hierarchy with memory
// can be mounted here: the v2 interface files are plain files in a temp dir. What is checked
// is the file protocol (names, units, delegation), which is all V2TaskCgroup speaks.
let mount = '';
before(async () => {
  mount = await mkdtemp(join(tmpdir(), 'yurt-cg2-'));
  await writeFile(join(mount, 'cgroup.subtree_control'), '');
});
after(async () => {
  await rm(mount, { recursive: true, force: true });
});

const read = (...p: string[]) => readFile(join(mount, ...p), 'utf8');

void describe('cgroup v2 task groups', () => {
  void it('delegates controllers down to the parent and writes the limits in v2 units', async () => {
    const host = { version: 2 as const, mountPoint: mount, own: mount, controllers: ['cpuset', 'cpu', 'memory', 'pids'] };
    const limits = taskLimits({ memoryMB: 256, memoryMaxMB: 512, cpuShares: 500, pidsLimit: 100, cpus: [2, 0] });
    const cg = await V2TaskCgroup.create(host, 'yurt.slice', 'alloc1.web.abc', limits);
    assert.equal(await read('cgroup.subtree_control'), '+memory +cpu +pids +cpuset');
    assert.equal(await read('yurt.slice', 'cgroup.subtree_control'), '+memory +cpu +pids +cpuset');
    const dir = ['yurt.slice', 'alloc1.web.abc'];
    assert.equal(await read(...dir, 'memory.max'), String(512 * 1024 * 1024));
    assert.equal(await read(...dir, 'memory.low'), String(256 * 1024 * 1024));
    assert.equal(await read(...dir, 'cpu.weight'), String(v2Weight(500)));
    assert.equal(await read(...dir, 'pids.max'), '100');
    assert.equal(await read(...dir, 'cpuset.cpus'), '0,2');
    assert.deepEqual(cg.joinFiles, [join(mount, ...dir, 'cgroup.procs')]);
    assert.deepEqual(V2TaskCgroup.fromState(cg.toState()).dir, cg.dir);
  });

  void it('reads OOM kills from memory.events and usage from cpu.stat / memory.stat', async () => {
    const dir = join(mount, 'manual');
    await mkdir(dir);
    await writeFile(join(dir, 'memory.events'), 'low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\noom_group_kill 0\n');
    await writeFile(join(dir, 'cpu.stat'), 'usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n');
    await writeFile(join(dir, 'memory.stat'), 'anon 4096\nfile 8192\n');
    const cg = new V2TaskCgroup(dir);
    assert.equal(await cg.oomKilled(), true);
    assert.deepEqual(await cg.usage(), { cpuNs: 1_500_000, rssBytes: 4096 });
  });

  void it('refuses when a needed controller is not available', async () => {
    const host = { version: 2 as const, mountPoint: mount, own: mount, controllers: ['cpu', 'pids'] };
    const limits = taskLimits({ memoryMB: 1, memoryMaxMB: 0, cpuShares: 100, pidsLimit: 0, cpus: [] });
    await assert.rejects(V2TaskCgroup.create(host, 'other.slice', 'x', limits), /lacks controllers: memory/);
  });

  void it('converts cpu shares to weight as runc does', () => {
    assert.equal(v2Weight(2), 1);
    assert.equal(v2Weight(1024), 39);
    assert.equal(v2Weight(262144), 10000);
  });
});
