// What an exec task sees of the machine: its chroot (chroot_env), its user, its dirs.
// Real processes in real namespaces; on a host where exec cannot run (not Linux, no root,
// no cgroups) each test checks the fingerprint says why instead.
import assert from 'node:assert/strict';
import { copyFile, mkdir, readFile, rmdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { taskFixture, type FixtureOptions, type TaskFixture } from '../process/task-config-fixture.js';
import { detectCgroups } from './cgroup-host.js';
import { v1ParentDir } from './cgroup-v1.js';
import { ExecDriver, type ExecDriverOptions } from './exec-driver.js';

const fixtures: TaskFixture[] = [];
const drivers: ExecDriver[] = [];
let unsupported: string | null = null;

function newDriver(o: ExecDriverOptions = {}): ExecDriver {
  const d = new ExecDriver({ pollIntervalMs: 50, ...o });
  drivers.push(d);
  return d;
}

async function fixture(config: Record<string, unknown>, o: Partial<FixtureOptions> & { user?: string } = {}): Promise<TaskFixture> {
  const f = await taskFixture({ driver: 'exec', config, ...o });
  if (o.user !== undefined) f.cfg.task.User = o.user;
  fixtures.push(f);
  return f;
}

const sh = (script: string) => ({ command: '/bin/sh', args: ['-c', script] });

async function run(d: ExecDriver, f: TaskFixture): Promise<string> {
  await d.start(f.cfg);
  const r = await d.wait(f.cfg.id);
  assert.equal(r.exitCode, 0, `exit ${r.exitCode}, stderr: ${await f.stderr()}`);
  return f.stdout();
}

async function skipIfUnsupported(): Promise<boolean> {
  if (unsupported === null) return false;
  const fp = await new ExecDriver().fingerprint();
  assert.ok(!fp.detected || fp.attributes['driver.exec.fs_isolation'] === 'none');
  assert.ok(fp.healthDescription.length > 0);
  console.log(`exec chroot not exercised on this host: ${unsupported}`);
  return true;
}

before(async () => {
  const fp = await new ExecDriver().fingerprint();
  if (!fp.detected) unsupported = fp.healthDescription;
  else if (fp.attributes['driver.exec.fs_isolation'] !== 'chroot') unsupported = fp.healthDescription;
});

after(async () => {
  for (const d of drivers) for (const f of fixtures) await d.destroy(f.cfg.id).catch(() => undefined);
  for (const f of fixtures) await f.cleanup();
  const det = await detectCgroups();
  if (det.host?.version === 1) {
    for (const c of Object.keys(det.host.own)) await rmdir(v1ParentDir(det.host, c, 'yurt')).catch(() => undefined);
  }
});

void describe('exec isolation: chroot and user', () => {
  void it('fingerprints fs_isolation = chroot and reports it in capabilities', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const fp = await d.fingerprint();
    assert.equal(fp.attributes['driver.exec.fs_isolation'], 'chroot');
    assert.equal(fp.healthDescription, 'Healthy');
    assert.equal(d.capabilities().fsIsolation, 'chroot');
  });

  void it('the task sees only its chroot: the expected root, no host /root, no agent data dir', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('true'));
    // The agent's data dir, as the host sees it: here the fixture's dir.
    f.cfg.task.Config = sh(`ls -A /; test -e /root && echo ROOT; test -e ${f.dir} && echo DATA; ls /dev; pwd`);
    const out = (await run(d, f)).trim().split('\n');
    const pwd = out.pop();
    assert.equal(pwd, '/');
    const top = out.filter((l) => !['fd', 'full', 'null', 'random', 'shm', 'stderr', 'stdin', 'stdout', 'tty', 'urandom', 'zero'].includes(l));
    const expected = ['alloc', 'bin', 'dev', 'etc', 'lib', 'local', 'proc', 'sbin', 'secrets', 'tmp', 'usr'];
    for (const e of expected) assert.ok(top.includes(e), `/${e} in ${top.join(' ')}`);
    for (const l of top) assert.ok([...expected, 'lib32', 'lib64', 'run'].includes(l), `unexpected /${l}`);
    assert.ok(!out.includes('ROOT'), 'host /root is not visible');
    assert.ok(!out.includes('DATA'), 'the task dir path of the host is not visible');
    for (const dev of ['null', 'zero', 'urandom', 'random', 'fd']) assert.ok(out.includes(dev), `/dev/${dev}`);
  });

  void it("a task assigned GPUs finds exactly their device nodes in its /dev, and a task without GPUs finds none", async () => {
    if (await skipIfUnsupported()) return;
    // No GPU here: the node of "the task's GPU" is the host's /dev/kmsg, a real character
    // device the task's /dev otherwise lacks.
    const asked: string[][] = [];
    const d = newDriver({ gpuDeviceNodes: (uuids) => { asked.push([...uuids]); return Promise.resolve(uuids.length === 0 ? [] : ['/dev/kmsg']); } });
    const probe = sh('test -c /dev/kmsg && echo gpu-node || echo no-gpu-node');
    const withGpu = await fixture(probe);
    withGpu.cfg.resources.Devices = [{ Vendor: 'nvidia', Type: 'gpu', Name: 'NVIDIA H100 80GB HBM3', DeviceIDs: ['GPU-8227780c'] }];
    assert.equal(await run(d, withGpu), 'gpu-node\n');
    assert.equal(await run(d, await fixture(probe)), 'no-gpu-node\n');
    assert.deepEqual(asked, [['GPU-8227780c'], []]);
  });

  void it('the root and the host dirs are read-only; /local, /tmp, /alloc are writable and land in the host dirs', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(
      sh('touch /x 2>/dev/null && echo ROOTW; touch /usr/x 2>/dev/null && echo USRW; echo hi > /local/out; echo t > /tmp/t; echo a > /alloc/a; echo "$NOMAD_TASK_DIR $NOMAD_ALLOC_DIR $NOMAD_SECRETS_DIR"'),
    );
    const out = await run(d, f);
    assert.equal(out, '/local /alloc /secrets\n');
    assert.equal(await readFile(join(f.dir, 'local', 'out'), 'utf8'), 'hi\n');
    assert.equal(await readFile(join(f.dir, 'tmp', 't'), 'utf8'), 't\n');
    // The fixture's alloc dir is the task dir itself (no <alloc>/alloc below it).
    assert.equal(await readFile(join(f.dir, 'a'), 'utf8'), 'a\n');
  });

  void it('runs as nobody by default, as task.User when set (name or uid), and owns its dirs', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const byDefault = await fixture(sh('id -u; id -g'));
    assert.equal(await run(d, byDefault), '65534\n65534\n');
    assert.equal((await stat(join(byDefault.dir, 'local'))).uid, 65534);
    assert.equal((await stat(join(byDefault.dir, 'secrets'))).mode & 0o777, 0o700);
    const root = await fixture(sh('id -u'), { user: 'root' });
    assert.equal(await run(d, root), '0\n');
    const numeric = await fixture(sh('id -u; echo x > /local/y'), { user: '65534' });
    assert.equal(await run(d, numeric), '65534\n');
  });

  void it('an unknown user fails the start with a clear error', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    const f = await fixture(sh('true'), { user: 'no-such-user-yurt' });
    await assert.rejects(d.start(f.cfg), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /task user "no-such-user-yurt" does not exist/.test(e.message));
    const bad = await fixture(sh('true'), { user: '-x' });
    await assert.rejects(d.start(bad.cfg), /not a valid user name/);
  });

  void it('a command outside the chroot is a clear start error', async () => {
    if (await skipIfUnsupported()) return;
    const d = newDriver();
    // Nomad's layout: <alloc>/alloc shared, <alloc>/<task> the task's; only the task's
    // local/, secrets/ and tmp/ are in the chroot, not the rest of its dir.
    const f = await fixture({ command: 'prog' });
    f.cfg.taskDir = join(f.dir, 'task');
    await mkdir(join(f.dir, 'alloc'));
    await mkdir(f.cfg.taskDir);
    await copyFile('/bin/true', join(f.cfg.taskDir, 'prog'));
    f.cfg.env['PATH'] = f.cfg.taskDir;
    await assert.rejects(d.start(f.cfg), /outside the task's chroot/);
    // The same program in local/ runs there, as /local/prog.
    const g = await fixture({ command: 'local/prog' });
    await mkdir(join(g.dir, 'local'));
    await copyFile('/bin/true', join(g.dir, 'local', 'prog'));
    await run(d, g);
  });

  void it('chrootEnv: a configured list is what the task gets; false turns the chroot off (fs_isolation none)', async () => {
    if (await skipIfUnsupported()) return;
    const narrow = newDriver({ chrootEnv: ['/bin', '/lib', '/lib64', '/usr'] });
    const f = await fixture(sh('test -e /etc && echo ETC; test -e /usr && echo USR'));
    assert.equal(await run(narrow, f), 'USR\n');
    const off = newDriver({ chrootEnv: false });
    const fp = await off.fingerprint();
    assert.equal(fp.attributes['driver.exec.fs_isolation'], 'none');
    assert.match(fp.healthDescription, /no chroot, tasks see the host's filesystem \(disabled by the chrootEnv option\)/);
    assert.equal(off.capabilities().fsIsolation, 'none');
    const g = await fixture(sh('test -d /root && echo HOST; id -u'));
    assert.equal(await run(off, g), 'HOST\n65534\n');
  });

  void it('rejects a chrootEnv that would hide the task dirs', async () => {
    if (await skipIfUnsupported()) return;
    const fp = await newDriver({ chrootEnv: { '/usr': '/local' } }).fingerprint();
    assert.equal(fp.attributes['driver.exec.fs_isolation'], 'none');
    assert.match(fp.healthDescription, /reserved/);
  });
});

