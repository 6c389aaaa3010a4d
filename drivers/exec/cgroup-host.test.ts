import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { detectCgroups, parseMountinfo, parseProcCgroup } from './cgroup-host.js';

// Real hosts: this machine is v1 (hybrid). The v2 and container layouts are described by
// mountinfo/cgroup files in a temp dir, since no such hierarchy can be mounted here.
let root = '';
before(async () => {
  root = await mkdtemp(join(tmpdir(), 'yurt-cg-'));
});
after(async () => {
  await rm(root, { recursive: true, force: true });
});

async function fakeProc(name: string, mountinfo: string, cgroup: string): Promise<string> {
  const dir = join(root, name);
  await mkdir(dir, { recursive: true });
  await writeFile(join(dir, 'mountinfo'), mountinfo);
  await writeFile(join(dir, 'cgroup'), cgroup);
  return dir;
}

void describe('cgroup host detection', () => {
  void it('parses mountinfo, decoding escaped paths', () => {
    const [m] = parseMountinfo('36 25 0:31 / /sys/fs/cgroup/cpu\\040x rw,nosuid - cgroup cgroup rw,cpu,cpuacct\n');
    assert.deepEqual(m, { root: '/', mountPoint: '/sys/fs/cgroup/cpu x', fsType: 'cgroup', superOptions: ['rw', 'cpu', 'cpuacct'] });
  });

  void it('parses /proc/self/cgroup lines', () => {
    assert.deepEqual(parseProcCgroup('4:memory:/a/b\n0::/\n9:name=systemd:/\n'), [
      { hierarchyId: 4, controllers: ['memory'], path: '/a/b' },
      { hierarchyId: 0, controllers: [], path: '/' },
      { hierarchyId: 9, controllers: ['name=systemd'], path: '/' },
    ]);
  });

  void it('finds this host\'s hierarchy and the agent\'s own cgroup in it', async () => {
    const det = await detectCgroups();
    if (process.platform !== 'linux') {
      assert.equal(det.host, null);
      return;
    }
    if (det.host === null) {
      console.log(`no usable cgroups here: ${det.reason}`);
      assert.ok(det.reason.length > 0);
      return;
    }
    if (det.host.version === 1) {
      const self = parseProcCgroup(await import('node:fs/promises').then((fs) => fs.readFile('/proc/self/cgroup', 'utf8')));
      const memPath = self.find((l) => l.controllers.includes('memory'))?.path ?? '';
      assert.equal(det.host.own['memory'], join('/sys/fs/cgroup/memory', memPath));
      for (const c of ['memory', 'cpu', 'pids', 'freezer']) assert.ok(det.host.own[c] !== undefined, c);
    } else {
      assert.ok(det.host.controllers.includes('memory'));
    }
  });

  void it('detects a v2 host with co-mounted controllers, and the agent path in a cgroup namespace', async () => {
    const mount = join(root, 'unified');
    await mkdir(join(mount, 'system.slice', 'yurt.service'), { recursive: true });
    await writeFile(join(mount, 'cgroup.controllers'), 'cpuset cpu io memory hugetlb pids rdma misc\n');
    const proc = await fakeProc('v2', `30 22 0:26 / ${mount} rw,nosuid - cgroup2 cgroup2 rw,nsdelegate\n`, '0::/system.slice/yurt.service\n');
    const det = await detectCgroups({ procSelf: proc });
    assert.equal(det.host?.version, 2);
    if (det.host?.version === 2) {
      assert.equal(det.host.own, join(mount, 'system.slice', 'yurt.service'));
      assert.equal(det.host.mountPoint, mount);
    }
  });

  void it('treats a hybrid host (v2 mount without memory) as v1, with co-mounted cpu,cpuacct', async () => {
    const unified = join(root, 'hy-unified');
    await mkdir(unified, { recursive: true });
    await writeFile(join(unified, 'cgroup.controllers'), 'hugetlb\n');
    const mi = [
      `30 22 0:26 / ${unified} rw - cgroup2 cgroup2 rw`,
      '31 22 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory',
      '32 22 0:28 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
      '33 22 0:29 / /sys/fs/cgroup/pids rw - cgroup cgroup rw,pids',
      '34 22 0:30 /docker/abc /sys/fs/cgroup/freezer rw - cgroup cgroup rw,freezer',
    ].join('\n');
    const cg = ['5:memory:/agent', '4:cpu,cpuacct:/', '3:pids:/agent', '2:freezer:/docker/abc/agent', '0::/'].join('\n');
    const det = await detectCgroups({ procSelf: await fakeProc('hybrid', mi, cg) });
    assert.equal(det.host?.version, 1);
    if (det.host?.version === 1) {
      assert.deepEqual(det.host.own, {
        memory: '/sys/fs/cgroup/memory/agent',
        cpu: '/sys/fs/cgroup/cpu,cpuacct',
        cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
        pids: '/sys/fs/cgroup/pids/agent',
        // The freezer hierarchy is mounted from /docker/abc: the agent's path is relative to it.
        freezer: '/sys/fs/cgroup/freezer/agent',
      });
    }
  });

  void it('says why when a needed controller is missing', async () => {
    const mi = '31 22 0:27 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n';
    const det = await detectCgroups({ procSelf: await fakeProc('partial', mi, '5:memory:/\n') });
    assert.equal(det.host, null);
    assert.match(det.reason ?? '', /lacks controllers: cpu, pids, freezer/);
  });
});
