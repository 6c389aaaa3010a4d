import assert from 'node:assert/strict';
import { mkdir, mkdtemp, readlink, rm, stat, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { buildSkeleton, checkChrootEnv, chrootOpWords, chrootPlan, chrootTaskEnv, pathInChroot } from './chroot.js';

let host = '';
before(async () => {
  // A fake host tree: usr/ a directory, bin -> usr/bin a symlink, as on a merged-/usr system.
  host = await mkdtemp(join(tmpdir(), 'yurt-chroot-'));
  await mkdir(join(host, 'usr', 'bin'), { recursive: true });
  await symlink('usr/bin', join(host, 'bin'));
});
after(() => rm(host, { recursive: true, force: true }));

void describe('chroot plan', () => {
  void it('binds directories read-only, recreates symlinks, skips missing paths, then the task dirs', async () => {
    const env = { [join(host, 'bin')]: '/bin', [join(host, 'usr')]: '/usr', [join(host, 'nope')]: '/nope' };
    const plan = await chrootPlan(env, '/data/a1/web', '/data/a1/alloc');
    const r = plan.root;
    assert.equal(r, '/data/a1/web/.yurt-root');
    assert.deepEqual(plan.ops.slice(0, 2), [
      { op: 'bind', src: r, dst: r, readOnly: false },
      { op: 'bind', src: join(host, 'usr'), dst: `${r}/usr`, readOnly: true },
    ]);
    assert.deepEqual(plan.skeleton.links[0], { target: 'usr/bin', path: `${r}/bin` });
    assert.ok(plan.ops.some((o) => o.op === 'proc' && o.dir === `${r}/proc`));
    assert.ok(plan.ops.some((o) => o.op === 'bind' && o.src === '/dev/null' && o.dst === `${r}/dev/null`));
    assert.ok(plan.skeleton.files.includes(`${r}/dev/null`));
    assert.ok(plan.ops.some((o) => o.op === 'bind' && o.src === '/data/a1/alloc' && o.dst === `${r}/alloc` && !o.readOnly));
    assert.ok(plan.ops.some((o) => o.op === 'bind' && o.src === '/data/a1/web/local' && o.dst === `${r}/local`));
    assert.deepEqual(plan.ops.at(-1), { op: 'seal', dir: r });
    assert.ok(!plan.ops.some((o) => o.op === 'bind' && o.src.endsWith('nope')));
    assert.deepEqual(chrootOpWords(plan.ops.slice(0, 2)), ['rw', r, r, 'ro', join(host, 'usr'), `${r}/usr`]);
  });

  void it("binds a task's GPU device nodes at their own paths, and nothing outside /dev", async () => {
    const plan = await chrootPlan([], '/data/a1/web', '/data/a1/alloc', ['/dev/nvidiactl', '/dev/nvidia3']);
    const r = plan.root;
    for (const d of ['/dev/nvidiactl', '/dev/nvidia3']) {
      assert.ok(plan.ops.some((o) => o.op === 'bind' && o.src === d && o.dst === `${r}${d}` && !o.readOnly), d);
      assert.ok(plan.skeleton.files.includes(`${r}${d}`));
    }
    for (const bad of ['/etc/shadow', '/dev/../etc/shadow', '/dev/dri/card0']) {
      await assert.rejects(chrootPlan([], '/data/a1/web', '/data/a1/alloc', [bad]), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument', bad);
    }
  });

  void it('builds the skeleton on the host, again without error', async () => {
    const task = join(host, 'task');
    const plan = await chrootPlan([join(host, 'bin'), join(host, 'usr')], task, join(host, 'alloc'));
    await buildSkeleton(plan);
    await buildSkeleton(plan);
    assert.equal(await readlink(join(plan.root, host, 'bin')), 'usr/bin');
    assert.equal(await readlink(join(plan.root, 'dev', 'fd')), '/proc/self/fd');
    assert.ok((await stat(join(plan.root, 'dev', 'null'))).isFile());
    for (const d of ['proc', 'local', 'alloc', 'tmp', 'dev/shm', join(host, 'usr')]) assert.ok((await stat(join(plan.root, d))).isDirectory(), d);
  });

  void it('maps host paths of the program to paths inside, and refuses one outside', async () => {
    const plan = await chrootPlan([join(host, 'usr')], '/data/a1/web', '/data/a1/alloc');
    assert.equal(pathInChroot(plan, '/data/a1/web/local/run.sh'), '/local/run.sh');
    assert.equal(pathInChroot(plan, '/data/a1/alloc/data/x'), '/alloc/data/x');
    assert.equal(pathInChroot(plan, join(host, 'usr', 'bin', 'env')), join(host, 'usr', 'bin', 'env'));
    assert.throws(() => pathInChroot(plan, '/opt/tool'), (e: unknown) => e instanceof YurtError && /outside the task's chroot/.test(e.message));
    assert.throws(() => pathInChroot(plan, '/data/a1/web/prog'), /outside/);
  });

  void it('checks chroot_env: absolute paths, nothing over the task mounts', () => {
    assert.equal(checkChrootEnv(['/usr', '/etc']), null);
    assert.equal(checkChrootEnv({ '/opt/x': '/opt/x' }), null);
    assert.match(checkChrootEnv(['usr']) ?? '', /absolute/);
    assert.match(checkChrootEnv({ '/usr': '/local/usr' }) ?? '', /reserved/);
    assert.match(checkChrootEnv({ '/': '/' }) ?? '', /reserved/);
  });

  void it('rewrites the NOMAD_*_DIR variables to the paths inside', () => {
    const env = chrootTaskEnv({ NOMAD_TASK_DIR: '/data/a/web/local', NOMAD_ALLOC_DIR: '/data/a/alloc', NOMAD_SECRETS_DIR: '/data/a/web/secrets', X: '1' });
    assert.deepEqual(env, { NOMAD_TASK_DIR: '/local', NOMAD_ALLOC_DIR: '/alloc', NOMAD_SECRETS_DIR: '/secrets', X: '1' });
  });
});
