import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type { TaskHandle } from '../driver.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { readProcStat } from '../process/proc-stat.js';
import { taskFixture, type FixtureOptions, type TaskFixture } from '../process/task-config-fixture.js';
import { createWasiDriver } from './index.js';
import { WasiDriver } from './wasi-driver.js';

const testdata = (name: string) => fileURLToPath(new URL(`./testdata/${name}`, import.meta.url));
const fixtures: TaskFixture[] = [];
const drivers: WasiDriver[] = [];
let cacheRoot = '';
let shared: WasiDriver;

function newDriver(opts: ConstructorParameters<typeof WasiDriver>[0] = {}): WasiDriver {
  const d = new WasiDriver({ cacheDir: join(cacheRoot, `c${drivers.length}`), pollIntervalMs: 50, ...opts });
  drivers.push(d);
  return d;
}

/** A task running testdata/<wasm> (copied into the task dir) with `args`. */
async function fixture(
  wasm: string,
  args: string[] = [],
  o: Partial<FixtureOptions> = {},
): Promise<TaskFixture> {
  const f = await taskFixture({ driver: 'wasi', config: { module: wasm, args }, ...o });
  fixtures.push(f);
  await copyFile(testdata(wasm), join(f.dir, wasm));
  return f;
}

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 10_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function alive(pid: number): Promise<boolean> {
  const st = await readProcStat(pid);
  return st !== null && st.state !== 'Z';
}

async function stillPending(p: Promise<unknown>, ms = 200): Promise<boolean> {
  return Promise.race([p.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
}

const userError = (pattern: RegExp) => (e: unknown) =>
  e instanceof YurtError && e.code === 'invalid_argument' && pattern.test(e.message);

before(async () => {
  cacheRoot = await mkdtemp(join(tmpdir(), 'yurt-wasi-cache-'));
  shared = newDriver();
  await shared.fingerprint();
});

after(async () => {
  for (const d of drivers) {
    for (const f of fixtures) await d.destroy(f.cfg.id).catch(() => undefined);
    await d.close();
  }
  for (const f of fixtures) await f.cleanup();
  await rm(cacheRoot, { recursive: true, force: true });
});

void describe('wasi driver', () => {
  void it('fingerprints as node:wasi with the Node version', async () => {
    const fp = await createWasiDriver({ cacheDir: join(cacheRoot, 'fp'), warmRunners: 0 }).fingerprint();
    assert.deepEqual([fp.detected, fp.healthy], [true, true]);
    assert.deepEqual(fp.attributes, {
      'driver.wasi': '1',
      'driver.wasi.runtime': 'node:wasi',
      'driver.wasi.version': process.versions.node,
    });
    assert.deepEqual(shared.capabilities(), { sendSignals: false, exec: false, fsIsolation: 'none', hostEnv: false });

    const broken = newDriver({ warmRunners: 0, runnerCommand: { execPath: process.execPath, args: [], script: '/nonexistent/runner.js' } });
    const bad = await broken.fingerprint();
    assert.deepEqual([bad.detected, bad.healthy], [true, false]);
    assert.match(bad.healthDescription, /runner script \/nonexistent\/runner.js is missing/);
  });

  void it('runs a module: stdout and stderr land in the task log files, exit 0', async () => {
    const f = await fixture('probe.wasm', ['hello']);
    const h = await shared.start(f.cfg);
    assert.equal(h.driver, 'wasi');
    assert.deepEqual(await shared.wait(f.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
    assert.equal(await f.stdout(), 'hello from wasi\n');
    assert.equal(await f.stderr(), 'a line on stderr\n');
  });

  void it('passes args and the task env; task dir variables name the guest paths', async () => {
    const f = await fixture('probe.wasm', ['args', 'GREETING', 'NOMAD_TASK_DIR', 'NOMAD_ALLOC_DIR'], {
      env: { GREETING: 'hi there', NOMAD_TASK_DIR: '/host/path/local', NOMAD_ALLOC_DIR: '/host/path/alloc' },
    });
    await shared.start(f.cfg);
    assert.equal((await shared.wait(f.cfg.id)).exitCode, 0);
    assert.equal(
      await f.stdout(),
      [
        'argv[0]=probe.wasm', 'argv[1]=args', 'argv[2]=GREETING', 'argv[3]=NOMAD_TASK_DIR', 'argv[4]=NOMAD_ALLOC_DIR',
        'GREETING=hi there', 'NOMAD_TASK_DIR=/local', 'NOMAD_ALLOC_DIR=/alloc', '',
      ].join('\n'),
    );
  });

  void it('reports the exit code, and a trap as 134 with the trap in stderr', async () => {
    const f1 = await fixture('probe.wasm', ['exit', '42']);
    await shared.start(f1.cfg);
    assert.deepEqual(await shared.wait(f1.cfg.id), { exitCode: 42, signal: 0, oomKilled: false });
    const status = await shared.inspect(f1.cfg.id);
    assert.equal(status?.state, 'exited');
    assert.equal(status?.exit?.exitCode, 42);
    const f2 = await fixture('probe.wasm', ['trap']);
    await shared.start(f2.cfg);
    assert.deepEqual(await shared.wait(f2.cfg.id), { exitCode: 134, signal: 0, oomKilled: false });
    assert.match(await f2.stderr(), /yurt wasi: the module trapped: unreachable/);
  });

  void it('preopens /local (task dir), /alloc (shared alloc dir) and /secrets on the host', async () => {
    const f = await fixture('probe.wasm', ['write', '/local/out.txt', 'written by wasm']);
    await shared.start(f.cfg);
    assert.equal((await shared.wait(f.cfg.id)).exitCode, 0);
    assert.equal(await readFile(join(f.cfg.taskDir, 'local', 'out.txt'), 'utf8'), 'written by wasm');

    const g = await fixture('probe.wasm', ['cat', '/alloc/shared.txt']);
    await mkdir(join(g.cfg.allocDir, 'alloc'), { recursive: true });
    await writeFile(join(g.cfg.allocDir, 'alloc', 'shared.txt'), 'from the host\n');
    await shared.start(g.cfg);
    assert.equal((await shared.wait(g.cfg.id)).exitCode, 0);
    assert.equal(await g.stdout(), 'from the host\n');

    // /secrets when the task has a secrets dir, with NOMAD_SECRETS_DIR naming it.
    const sec = await fixture('probe.wasm', ['cat', '/secrets/token'], { env: { NOMAD_SECRETS_DIR: '/host/secrets' } });
    await mkdir(join(sec.cfg.taskDir, 'secrets'));
    await writeFile(join(sec.cfg.taskDir, 'secrets', 'token'), 's3cret\n');
    await shared.start(sec.cfg);
    assert.equal((await shared.wait(sec.cfg.id)).exitCode, 0);
    assert.equal(await sec.stdout(), 's3cret\n');
    const env = await fixture('probe.wasm', ['args', 'NOMAD_SECRETS_DIR'], { env: { NOMAD_SECRETS_DIR: '/host/secrets' } });
    await mkdir(join(env.cfg.taskDir, 'secrets'));
    await shared.start(env.cfg);
    await shared.wait(env.cfg.id);
    assert.match(await env.stdout(), /^NOMAD_SECRETS_DIR=\/secrets$/m);

    // Nothing outside the preopens is reachable.
    const h = await fixture('probe.wasm', ['cat', '/etc/hostname']);
    await shared.start(h.cfg);
    assert.equal((await shared.wait(h.cfg.id)).exitCode, 1);
    assert.match(await h.stderr(), /\/etc\/hostname/);
  });

  void it('streams output to the log file while the module runs', async () => {
    const f = await fixture('probe.wasm', ['wait', '/local/go', '3']);
    await shared.start(f.cfg);
    const exit = shared.wait(f.cfg.id);
    await until('ready in stdout', async () => (await f.stdout()) === 'ready\n');
    assert.equal(await stillPending(exit), true, 'still running');
    await writeFile(join(f.cfg.taskDir, 'local', 'go'), '');
    assert.deepEqual(await exit, { exitCode: 3, signal: 0, oomKilled: false });
    assert.equal(await f.stdout(), 'ready\ngo\n');
  });

  void it('caps linear memory at the task memory: a module that grows past it fails, reported as OOM', async () => {
    const within = await fixture('probe.wasm', ['alloc', '8'], { memoryMB: 16 });
    await shared.start(within.cfg);
    assert.deepEqual(await shared.wait(within.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
    assert.match(await within.stdout(), /^allocated 8 MiB/);

    const beyond = await fixture('probe.wasm', ['alloc', '64'], { memoryMB: 16 });
    await shared.start(beyond.cfg);
    assert.deepEqual(await shared.wait(beyond.cfg.id), { exitCode: 134, signal: 0, oomKilled: true });
    const stderr = await beyond.stderr();
    const allocated = Number(/malloc failed after (\d+) MiB/.exec(stderr)?.[1]);
    assert.ok(allocated >= 8 && allocated < 16, `got ${allocated} MiB before failing`);
    assert.match(stderr, /at its limit of 16\.0 MiB \(the task's memory\): out of memory/);

    // memory_max (oversubscription) is the hard limit when set.
    const max = await fixture('probe.wasm', ['alloc', '24'], { memoryMB: 16, memoryMaxMB: 48 });
    await shared.start(max.cfg);
    assert.equal((await shared.wait(max.cfg.id)).exitCode, 0);
  });

  void it('refuses to start a module whose initial memory exceeds the task memory', async () => {
    const f = await fixture('big-initial.wasm', [], { memoryMB: 16 });
    await assert.rejects(shared.start(f.cfg), userError(/needs 18\.75 MiB of linear memory to start .* task's memory of 16 MB/));
    const ok = await fixture('big-initial.wasm', [], { memoryMB: 32 });
    await shared.start(ok.cfg);
    assert.equal((await shared.wait(ok.cfg.id)).exitCode, 0);
  });

  void it('gives an imported memory its declared maximum', async () => {
    const f = await fixture('imported-memory.wasm');
    await shared.start(f.cfg);
    assert.equal((await shared.wait(f.cfg.id)).exitCode, 0);
    assert.equal(await f.stdout(), 'imported memory\nok\nfail\n');
  });

  void it('runs modules built for the older wasi_unstable snapshot', async () => {
    const f = await fixture('unstable.wasm');
    await shared.start(f.cfg);
    assert.equal((await shared.wait(f.cfg.id)).exitCode, 0);
    assert.equal(await f.stdout(), 'old wasi\n');
  });

  void it('stop ends a busy loop at once with the stop signal, well within the timeout', async () => {
    const f = await fixture('busy.wasm');
    await shared.start(f.cfg);
    const t0 = Date.now();
    await shared.stop(f.cfg.id, 'SIGINT', 10_000);
    assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    assert.deepEqual(await shared.wait(f.cfg.id), { exitCode: 130, signal: 2, oomKilled: false });
    await shared.stop(f.cfg.id, 'SIGINT', 10); // a no-op once the task is gone

    // A module spinning in its start function (during instantiation) too.
    const g = await fixture('busy-start.wasm');
    const h = await shared.start(g.cfg);
    await shared.stop(g.cfg.id, 'SIGTERM', 10_000);
    assert.equal((await shared.wait(g.cfg.id)).signal, 15);
    assert.equal(await alive(h.state['pid'] as number), false);
  });

  void it('stop kills after the timeout when the signal does not end the runner (SIGUSR1 is held)', async () => {
    const f = await fixture('probe.wasm', ['spin']);
    await shared.start(f.cfg);
    await until('spinning', async () => (await f.stdout()).includes('spinning'));
    const t0 = Date.now();
    await shared.stop(f.cfg.id, 'SIGUSR1', 300);
    const took = Date.now() - t0;
    assert.ok(took >= 300 && took < 3000, `stop took ${took} ms`);
    assert.deepEqual(await shared.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: false });
    // Node opens its inspector on SIGUSR1 unless a listener holds the signal; it would have
    // said so on the runner's stderr (the runner log).
    const log = await readFile(join(cacheRoot, 'c0', 'runner.log'), 'utf8').catch(() => '');
    assert.doesNotMatch(log, /Debugger listening/);
  });

  void it('signal() is refused: WASI modules have no signals', async () => {
    const f = await fixture('busy.wasm');
    await shared.start(f.cfg);
    await assert.rejects(shared.signal(f.cfg.id, 'SIGHUP'), userError(/cannot receive signals/));
    await assert.rejects(shared.signal(f.cfg.id, 'SIGNOPE'), userError(/unknown signal/));
    await shared.destroy(f.cfg.id);
    await assert.rejects(shared.wait(f.cfg.id), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
  });

  void it('stats: CPU and RSS of the runner process', async () => {
    const f = await fixture('busy.wasm');
    await shared.start(f.cfg);
    await shared.stats(f.cfg.id);
    await new Promise((r) => setTimeout(r, 500));
    const s = await shared.stats(f.cfg.id);
    assert.ok(s !== null);
    // A busy loop shows clearly non-zero CPU; its exact share depends on what else runs on this 2-core machine.
    assert.ok(s.cpuPercent > 5 && s.cpuPercent < 250, `cpu ${s.cpuPercent}%`);
    assert.ok(s.memoryRssBytes > 10_000_000, `rss ${s.memoryRssBytes}`);
    await shared.stop(f.cfg.id, 'SIGKILL', 0);
    assert.equal(await shared.stats(f.cfg.id), null);
  });

  void it('caches: the second start of a module finds it prepared and compiled', async () => {
    const d = newDriver({ warmRunners: 2 });
    await d.fingerprint();
    const first = await fixture('probe.wasm', ['exit', '0']);
    await d.start(first.cfg);
    await d.wait(first.cfg.id);
    assert.deepEqual(d.cacheStats(), { preparedHits: 0, preparedMisses: 1, compiledHits: 0, compiledMisses: 1 });
    // The same bytes at another path (another task's dir): same content hash. Of the two
    // idle runners, the one that compiled the module meanwhile is chosen.
    const second = await fixture('probe.wasm', ['hello']);
    await d.start(second.cfg);
    assert.equal((await d.wait(second.cfg.id)).exitCode, 0);
    assert.deepEqual(d.cacheStats(), { preparedHits: 1, preparedMisses: 1, compiledHits: 1, compiledMisses: 1 });
    assert.equal(await second.stdout(), 'hello from wasi\n');
    // Another module is a miss, and the pool keeps both recent modules compiled.
    const other = await fixture('busy.wasm');
    await d.start(other.cfg);
    await d.stop(other.cfg.id, 'SIGKILL', 0);
    assert.deepEqual(d.cacheStats(), { preparedHits: 1, preparedMisses: 2, compiledHits: 1, compiledMisses: 2 });
    const third = await fixture('probe.wasm', ['exit', '0']);
    await d.start(third.cfg);
    await d.wait(third.cfg.id);
    assert.deepEqual(d.cacheStats(), { preparedHits: 2, preparedMisses: 2, compiledHits: 2, compiledMisses: 2 });
  });

  void it('without warm runners every start launches a process and still works', async () => {
    const d = newDriver({ warmRunners: 0 });
    const f = await fixture('probe.wasm', ['exit', '5']);
    await d.start(f.cfg);
    assert.equal((await d.wait(f.cfg.id)).exitCode, 5);
  });

  void it('rejects bad config, modules outside the alloc dir and unusable modules with clear errors', async () => {
    assert.deepEqual(shared.validateConfig({ module: 'a.wasm' }), []);
    assert.deepEqual(shared.validateConfig({ command: 'x' }), [
      'config.command: unknown option (supported: module, args, artifact)',
      'config.module: must be a non-empty string: the .wasm file, relative to the task dir',
    ]);
    const bad = await taskFixture({ driver: 'wasi', config: { module: 7 } });
    fixtures.push(bad);
    await assert.rejects(shared.start(bad.cfg), (e: unknown) => e instanceof ValidationError && e.errors[0]?.path === 'config.module');

    const cases: [Record<string, unknown>, RegExp][] = [
      [{ module: '/etc/hostname' }, /outside the allocation directory/],
      [{ module: '../../etc/hostname' }, /outside the allocation directory/],
      [{ module: 'missing.wasm' }, /"missing.wasm" does not exist/],
      [{ module: 'not-wasm.txt' }, /does not start with the WebAssembly magic/],
      [{ module: 'needs-env.wasm' }, /imports what WASI preview1 does not provide: env\.host_random \(function\)/],
      [{ module: 'reactor.wasm' }, /WASI reactor/],
      [{ module: 'escape.wasm' }, /resolves to .*, outside the allocation directory/],
    ];
    for (const [config, pattern] of cases) {
      const f = await taskFixture({ driver: 'wasi', config });
      fixtures.push(f);
      await writeFile(join(f.dir, 'not-wasm.txt'), 'hello');
      await copyFile(testdata('needs-env.wasm'), join(f.dir, 'needs-env.wasm'));
      await copyFile(testdata('reactor.wasm'), join(f.dir, 'reactor.wasm'));
      await import('node:fs/promises').then((fs) => fs.symlink(testdata('probe.wasm'), join(f.dir, 'escape.wasm')));
      await assert.rejects(shared.start(f.cfg), userError(pattern), `${JSON.stringify(config)} should fail with ${pattern}`);
    }
    await assert.rejects(shared.wait('nope'), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
  });

  void it('downloads the module from config.artifact with its checksum verified', async () => {
    const bytes = await readFile(testdata('probe.wasm'));
    const sha = createHash('sha256').update(bytes).digest('hex');
    let requests = 0;
    const server = createServer((_req, res) => {
      requests++;
      res.end(bytes);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const source = `http://127.0.0.1:${(server.address() as AddressInfo).port}/probe.wasm`;
    try {
      const f = await taskFixture({
        driver: 'wasi',
        config: { module: 'local/probe.wasm', args: ['hello'], artifact: [{ source, checksum: `sha256:${sha}` }] },
      });
      fixtures.push(f);
      await shared.start(f.cfg);
      assert.equal((await shared.wait(f.cfg.id)).exitCode, 0);
      assert.equal(await f.stdout(), 'hello from wasi\n');
      assert.deepEqual(await readFile(join(f.dir, 'local', 'probe.wasm')), bytes);
      // A restart of the task finds the module in place and does not download it again.
      await shared.start(f.cfg);
      await shared.wait(f.cfg.id);
      assert.equal(requests, 1);

      const wrong = await taskFixture({
        driver: 'wasi',
        config: { module: 'local/probe.wasm', artifact: { source, checksum: `sha256:${'0'.repeat(64)}` } },
      });
      fixtures.push(wrong);
      await assert.rejects(shared.start(wrong.cfg), userError(/checksum mismatch/));
    } finally {
      await new Promise((r) => server.close(r));
    }
  });

  void it('recover: a new driver instance reattaches to a running task and gets its exit code', async () => {
    const f = await fixture('probe.wasm', ['wait', '/local/go', '3']);
    const h = await shared.start(f.cfg);
    const persisted = JSON.parse(JSON.stringify(h)) as TaskHandle;
    await until('ready', async () => (await f.stdout()).includes('ready'));

    const second = newDriver({ warmRunners: 0 });
    assert.equal(await second.recover(persisted), true);
    const exit = second.wait(f.cfg.id);
    assert.equal(await stillPending(exit), true, 'still running after recovery');
    assert.ok((await second.stats(f.cfg.id)) !== null);
    await writeFile(join(f.cfg.taskDir, 'local', 'go'), '');
    assert.deepEqual(await exit, { exitCode: 3, signal: 0, oomKilled: false });
  });

  void it('recover: a recovered task can be stopped; one that ended reports its recorded exit', async () => {
    const f = await fixture('busy.wasm');
    const h = await shared.start(f.cfg);
    const second = newDriver({ warmRunners: 0 });
    assert.equal(await second.recover(h), true);
    await second.stop(f.cfg.id, 'SIGTERM', 5000);
    assert.deepEqual(await second.wait(f.cfg.id), { exitCode: 143, signal: 15, oomKilled: false });

    const g = await fixture('probe.wasm', ['exit', '7']);
    const hg = await shared.start(g.cfg);
    await shared.wait(g.cfg.id);
    const third = newDriver({ warmRunners: 0 });
    assert.equal(await third.recover(hg), true);
    assert.deepEqual(await third.wait(g.cfg.id), { exitCode: 7, signal: 0, oomKilled: false });
  });

  void it('recover: false when the runner is gone without a record', async () => {
    const f = await fixture('busy.wasm');
    const h = await shared.start(f.cfg);
    process.kill(h.state['pid'] as number, 'SIGKILL');
    assert.deepEqual(await shared.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: false });
    const second = newDriver({ warmRunners: 0 });
    assert.equal(await second.recover(h), false);
    await assert.rejects(second.wait(f.cfg.id), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
    await assert.rejects(
      second.recover({ driver: 'wasi', taskId: 'x/y', startedAt: 0, state: { version: 1, runId: 'r', pid: 'abc' } }),
      (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /pid/.test(e.message),
    );
    await assert.rejects(
      second.recover({ driver: 'raw_exec', taskId: 'x/y', startedAt: 0, state: {} }),
      (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument',
    );
  });

  void it('the task survives the agent process dying, and a new agent recovers it', async () => {
    const f = await fixture('probe.wasm', ['wait', '/local/go', '4']);
    const helper = testdata('start-then-exit.ts');
    const agent = spawn(process.execPath, ['--import', 'tsx', helper, JSON.stringify(f.cfg), join(cacheRoot, 'helper')], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    agent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    const code = await new Promise<number | null>((r) => agent.on('exit', (c) => r(c)));
    assert.equal(code, 0);
    const h = JSON.parse(out) as TaskHandle;
    await until('ready', async () => (await f.stdout()).includes('ready'));
    assert.ok(await alive(h.state['pid'] as number), 'task outlived its agent');

    const d = newDriver({ warmRunners: 0 });
    assert.equal(await d.recover(h), true);
    await writeFile(join(f.cfg.taskDir, 'local', 'go'), '');
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 4, signal: 0, oomKilled: false });
  });
});
