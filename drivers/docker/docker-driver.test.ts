/**
 * The docker driver against the real engine (/var/run/docker.sock) with a busybox image
 * built locally (testing/busybox-image.ts). Without an engine these tests skip, or fail in
 * CI (testing/docker-engine.ts). Every container carries this run's owner label and is
 * removed at the end, with the images.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import { get as httpGet } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import Dockerode from 'dockerode';
import type { TaskHandle } from '../driver.js';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { createDockerDriver, type DockerDriver, type DockerDriverOptions } from './index.js';
import { importBusyboxImage, removeImages } from './testing/busybox-image.js';
import { engineProblem, needDocker, TEST_SOCKET } from './testing/docker-engine.js';
import { dockerTaskFixture, type DockerFixtureOptions, type DockerTaskFixture } from './testing/docker-task-fixture.js';

const RUN = `${process.pid}-${Date.now().toString(36)}`;
const OWNER = `docker-test-${RUN}`;
const IMAGE = `yurt-test-busybox:${RUN}`;
const LOAD_IMAGE = `yurt-test-load:${RUN}`;
const docker = new Dockerode({ socketPath: TEST_SOCKET });
const drivers: DockerDriver[] = [];
const fixtures: DockerTaskFixture[] = [];
const servers: { server: Server; sockets: Set<Socket> }[] = [];

function newDriver(opts: DockerDriverOptions = {}): DockerDriver {
  const d = createDockerDriver({ socketPath: TEST_SOCKET, ownerId: OWNER, killGraceMs: 5000, ...opts });
  drivers.push(d);
  return d;
}

async function fixture(o: Omit<DockerFixtureOptions, 'config'> & { config: Record<string, unknown> }): Promise<DockerTaskFixture> {
  const f = await dockerTaskFixture({ ...o, config: { image: IMAGE, network_mode: 'none', ...o.config } });
  fixtures.push(f);
  return f;
}

const sh = (script: string, ...args: string[]) => ({ command: '/bin/sh', args: ['-c', script, 'sh', ...args] });

async function until<T>(what: string, f: () => Promise<T | null | undefined | false>, ms = 5000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null && v !== undefined && v !== false) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

async function stillPending(p: Promise<unknown>, ms = 200): Promise<boolean> {
  return Promise.race([p.then(() => false), new Promise<boolean>((r) => setTimeout(() => r(true), ms))]);
}

async function containerState(id: string): Promise<string | null> {
  try {
    return (await docker.getContainer(id).inspect()).State.Status;
  } catch {
    return null;
  }
}

const containerId = (h: TaskHandle) => h.state['containerId'] as string;

/** A TCP server that accepts connections and never answers: a registry that hangs. */
async function silentServer(): Promise<number> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  servers.push({ server, sockets });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return (server.address() as { port: number }).port;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise((r) => s.close(r));
  return port;
}

function httpBody(url: string): Promise<string | null> {
  return new Promise((resolve) => {
    const req = httpGet(url, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c));
      res.on('end', () => resolve(res.statusCode === 200 ? body : null));
    });
    req.on('error', () => resolve(null));
    req.setTimeout(1000, () => req.destroy());
  });
}

before(async () => {
  if ((await engineProblem()) === null) await importBusyboxImage(docker, IMAGE);
});

after(async () => {
  for (const d of drivers) await d.close();
  if ((await engineProblem()) === null) {
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`com.yurt.owner`] } });
    for (const c of leftovers) {
      if (c.Labels['com.yurt.owner']?.startsWith(OWNER) === true) await docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    }
    await removeImages(docker, [IMAGE, LOAD_IMAGE]);
  }
  for (const { server, sockets } of servers) {
    for (const s of sockets) s.destroy();
    server.close();
  }
  for (const f of fixtures) await f.cleanup();
});

void describe('docker driver: fingerprint', () => {
  void it('is detected and healthy with the engine version when the engine answers', async (t) => {
    if (!(await needDocker(t))) return;
    const fp = await newDriver().fingerprint();
    assert.deepEqual([fp.detected, fp.healthy, fp.healthDescription], [true, true, 'Healthy']);
    assert.equal(fp.attributes['driver.docker'], '1');
    assert.equal(fp.attributes['driver.docker.version'], (await docker.version()).Version);
    assert.equal(fp.attributes['driver.docker.privileged.enabled'], undefined);
    assert.equal((await newDriver({ allowPrivileged: true }).fingerprint()).attributes['driver.docker.privileged.enabled'], '1');
  });

  void it('is undetected, saying why, when the socket is missing or silent', async () => {
    const missing = await createDockerDriver({ socketPath: '/nonexistent/docker.sock' }).fingerprint();
    assert.deepEqual([missing.detected, missing.healthy], [false, false]);
    assert.match(missing.healthDescription, /\/nonexistent\/docker\.sock not found/);

    // A socket that accepts connections but never answers: bounded by the timeout.
    const dir = (await fixture({ config: {} })).root;
    const sockPath = join(dir, 'silent.sock');
    const sockets = new Set<Socket>();
    const server = createServer((s) => sockets.add(s));
    servers.push({ server, sockets });
    await new Promise<void>((r) => server.listen(sockPath, r));
    const t0 = Date.now();
    const silent = await createDockerDriver({ socketPath: sockPath, fingerprintTimeoutMs: 300 }).fingerprint();
    assert.ok(Date.now() - t0 < 2000, `took ${Date.now() - t0} ms`);
    assert.equal(silent.detected, false);
    assert.match(silent.healthDescription, /no answer within 300 ms/);
  });
});

void describe('docker driver: tasks', () => {
  void it('runs a task: args and env reach it, output lands in the log files, exit code, task dirs mounted', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const f = await fixture({
      config: sh('echo "$GREETING|$1|$NOMAD_TASK_DIR|$NOMAD_ALLOC_DIR|$(cat /local/in.txt)"; echo oops >&2; echo shared > /alloc/data/out; echo s > /secrets/s; exit 42', 'a b'),
      env: { GREETING: 'hi there' },
    });
    await writeFile(join(f.taskDir, 'local', 'in.txt'), 'input');
    const t0 = performance.now();
    const h = await d.start(f.cfg);
    const startMs = performance.now() - t0;
    assert.equal(h.driver, 'docker');
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 42, signal: 0, oomKilled: false });
    const status = await d.inspect(f.cfg.id);
    assert.equal(status?.state, 'exited');
    assert.equal(status?.exit?.exitCode, 42);
    assert.equal(typeof status?.details['containerId'], 'string');
    assert.equal(await f.stdout(), 'hi there|a b|/local|/alloc|input\n');
    assert.equal(await f.stderr(), 'oops\n');
    assert.equal(await readFile(join(f.sharedDir, 'data', 'out'), 'utf8'), 'shared\n');
    assert.equal(await readFile(join(f.taskDir, 'secrets', 's'), 'utf8'), 's\n');
    // The engine holds the container with yurt's labels and the task's limits.
    const info = await docker.getContainer(containerId(h)).inspect();
    assert.equal(info.Config.Labels['com.yurt.task_id'], f.cfg.id);
    assert.equal(info.Config.Labels['com.yurt.owner'], OWNER);
    assert.deepEqual([info.HostConfig.Memory, info.HostConfig.CpuShares], [64 * 1024 * 1024, 100]);
    console.log(`docker start latency (image local, network none): ${startMs.toFixed(0)} ms`);
    await d.destroy(f.cfg.id);
    assert.equal(await containerState(containerId(h)), null, 'destroy removed the container');
    await d.destroy(f.cfg.id); // idempotent
    await assert.rejects(d.wait(f.cfg.id), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
  });

  void it('publishes a port label: host port → container port, reachable from the host', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const hostPort = await freePort();
    const f = await fixture({
      config: { command: '/bin/httpd', args: ['-f', '-p', '8080', '-h', '/local'], ports: ['http'], network_mode: 'bridge' },
      networks: [{ Mode: 'host', Device: '', CIDR: '', IP: '127.0.0.1', MBits: 0, ReservedPorts: [], DynamicPorts: [{ Label: 'http', Value: hostPort, To: 8080, HostNetwork: 'default' }] }],
    });
    await writeFile(join(f.taskDir, 'local', 'index.html'), 'hello from a container');
    await d.start(f.cfg);
    const body = await until('the published port to answer', () => httpBody(`http://127.0.0.1:${hostPort}/index.html`));
    assert.equal(body, 'hello from a container');
    await d.stop(f.cfg.id, 'SIGTERM', 2000);
    await d.destroy(f.cfg.id);
  });

  void it('stop: a task that handles SIGTERM exits cleanly before the timeout', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const f = await fixture({ config: sh('trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done') });
    await d.start(f.cfg);
    await until('ready', async () => (await f.stdout()).includes('ready'));
    const t0 = Date.now();
    await d.stop(f.cfg.id, 'SIGTERM', 5000);
    assert.ok(Date.now() - t0 < 2000, `stop took ${Date.now() - t0} ms`);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 0, signal: 0, oomKilled: false });
    assert.equal(await f.stdout(), 'ready\ngot-term\n');
    await d.stop(f.cfg.id, 'SIGTERM', 10); // a no-op once the task is gone
  });

  void it('stop: a task that ignores SIGTERM is killed after the timeout', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const f = await fixture({ config: sh("trap '' TERM; echo ready; sleep 100") });
    const h = await d.start(f.cfg);
    await until('ready', async () => (await f.stdout()).includes('ready'));
    const t0 = Date.now();
    await d.stop(f.cfg.id, 'SIGTERM', 500);
    const took = Date.now() - t0;
    assert.ok(took >= 500 && took < 4000, `stop took ${took} ms`);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: false });
    assert.equal(await containerState(containerId(h)), 'exited');
  });

  void it('signal() reaches the task; unknown signals and stopped tasks are user errors', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const f = await fixture({ config: sh('trap "echo usr1" USR1; echo ready; while :; do sleep 0.05; done') });
    await d.start(f.cfg);
    await until('ready', async () => (await f.stdout()).includes('ready'));
    await d.signal(f.cfg.id, 'SIGUSR1');
    await until('usr1 handled', async () => (await f.stdout()).includes('usr1'));
    await assert.rejects(d.signal(f.cfg.id, 'SIGNOPE'), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument');
    await d.stop(f.cfg.id, 'SIGKILL', 0);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: false });
    await assert.rejects(d.signal(f.cfg.id, 'SIGUSR1'), (e: unknown) => e instanceof YurtError && e.code === 'conflict');
  });

  void it('a task over its memory limit is OOM-killed and reported so', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    // tail buffers an endless line of zeros: memory grows until the cgroup limit.
    const f = await fixture({ config: sh('echo start; tail /dev/zero'), memoryMB: 16 });
    await d.start(f.cfg);
    assert.deepEqual(await d.wait(f.cfg.id), { exitCode: 137, signal: 9, oomKilled: true });
    assert.equal(await f.stdout(), 'start\n');
  });

  void it('pids_limit caps the processes in the container', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const f = await fixture({ config: { ...sh('for i in 1 2 3 4 5 6 7 8; do sleep 5 & done; echo forked'), pids_limit: 4 } });
    await d.start(f.cfg);
    await d.wait(f.cfg.id);
    assert.match(await f.stderr(), /can't fork/);
  });

  void it('stats: CPU percent and memory of a busy task, from the engine', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const f = await fixture({ config: sh('while :; do :; done') });
    await d.start(f.cfg);
    await d.stats(f.cfg.id);
    await new Promise((r) => setTimeout(r, 600));
    const s = await d.stats(f.cfg.id);
    assert.ok(s !== null);
    // A busy loop shows clearly non-zero CPU; the exact share depends on what else runs on this 2-core machine.
    assert.ok(s.cpuPercent > 5 && s.cpuPercent < 250, `cpu ${s.cpuPercent}%`);
    assert.ok(s.memoryRssBytes > 10_000, `rss ${s.memoryRssBytes}`);
    await d.destroy(f.cfg.id);
  });

  void it('loads the image from a tarball in the task dir (load)', async (t) => {
    if (!(await needDocker(t))) return;
    await importBusyboxImage(docker, LOAD_IMAGE);
    const f = await fixture({ config: { image: LOAD_IMAGE, load: 'local/image.tar', ...sh('echo loaded') } });
    await pipeline(await docker.getImage(LOAD_IMAGE).get(), createWriteStream(join(f.taskDir, 'local', 'image.tar')));
    await removeImages(docker, [LOAD_IMAGE]);
    const d = newDriver();
    await d.start(f.cfg);
    assert.equal((await d.wait(f.cfg.id)).exitCode, 0);
    assert.equal(await f.stdout(), 'loaded\n');

    const missing = await fixture({ config: { load: 'local/none.tar' } });
    await assert.rejects(d.start(missing.cfg), (e: unknown) => e instanceof YurtError && /image tarball "local\/none.tar" .* does not exist/.test(e.message));
  });

  void it('a missing image with no reachable registry fails fast with a clear error', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const image = `yurt-test/not-here-${RUN}:1`;
    const f = await fixture({ config: { image, image_pull_timeout: '30s', command: '/bin/true' } });
    const t0 = Date.now();
    await assert.rejects(
      d.start(f.cfg),
      (e: unknown) => e instanceof YurtError && e.code === 'unavailable' && e.message.includes(`image "${image}" is not on this host and pulling it failed`),
    );
    assert.ok(Date.now() - t0 < 10_000, `took ${Date.now() - t0} ms`);
    await assert.rejects(d.wait(f.cfg.id), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
  });

  void it('a pull from a registry that never answers is cancelled at image_pull_timeout', async (t) => {
    if (!(await needDocker(t))) return;
    const port = await silentServer();
    const d = newDriver();
    const f = await fixture({ config: { image: `127.0.0.1:${port}/yurt/hangs:1`, image_pull_timeout: '1s', command: '/bin/true' } });
    const t0 = Date.now();
    await assert.rejects(d.start(f.cfg), (e: unknown) => e instanceof YurtError && e.code === 'timeout' && /did not finish within 1s \(image_pull_timeout\)/.test(e.message));
    const took = Date.now() - t0;
    assert.ok(took >= 900 && took < 5000, `took ${took} ms`);
  });

  void it('rejects bad config, privileged without permission, a missing task dir and unknown commands', async (t) => {
    if (!(await needDocker(t))) return;
    const d = newDriver();
    const bad = await fixture({ config: { image: '', pids_limit: 'many' } });
    await assert.rejects(
      d.start(bad.cfg),
      (e: unknown) => e instanceof ValidationError && e.errors.map((x) => x.path).join(',') === 'config.image,config.pids_limit',
    );
    const priv = await fixture({ config: { privileged: true, command: '/bin/true' } });
    await assert.rejects(d.start(priv.cfg), (e: unknown) => e instanceof ValidationError && /allow_privileged/.test(e.message));
    const gone = await fixture({ config: { command: '/bin/true' } });
    await assert.rejects(d.start({ ...gone.cfg, taskDir: join(gone.root, 'nope') }), (e: unknown) => e instanceof YurtError && /does not exist/.test(e.message));
    const nocmd = await fixture({ config: { command: '/no/such/program' } });
    await assert.rejects(d.start(nocmd.cfg), (e: unknown) => e instanceof YurtError && /starting container for task .*no\/such\/program/s.test(e.message));
    const leftovers = await docker.listContainers({ all: true, filters: { label: [`com.yurt.task_id=${nocmd.cfg.id}`] } });
    assert.deepEqual(leftovers, [], 'a container that failed to start is removed');
  });
});

void describe('docker driver: recovery and orphans', () => {
  void it('recover: the container outlives its agent process; a new instance reattaches and follows output from then on', async (t) => {
    if (!(await needDocker(t))) return;
    const f = await fixture({ config: sh('echo ready; while [ ! -e /local/go ]; do sleep 0.05; done; echo after; exit 3') });
    const helper = fileURLToPath(new URL('./testing/start-then-exit.ts', import.meta.url));
    const agent = spawn(process.execPath, ['--import', 'tsx', helper, JSON.stringify(f.cfg), JSON.stringify({ socketPath: TEST_SOCKET, ownerId: OWNER }), 'ready'], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    agent.stdout.setEncoding('utf8').on('data', (c: string) => (out += c));
    assert.equal(await new Promise<number | null>((r) => agent.on('exit', (c) => r(c))), 0);
    const h = JSON.parse(out) as TaskHandle;
    assert.equal(await containerState(containerId(h)), 'running', 'the container outlived its agent');
    assert.equal(await f.stdout(), 'ready\n');

    const d = newDriver();
    assert.equal(await d.recover(JSON.parse(JSON.stringify(h)) as TaskHandle), true);
    const exit = d.wait(f.cfg.id);
    assert.equal(await stillPending(exit), true, 'still running after recovery');
    assert.ok((await d.stats(f.cfg.id)) !== null);
    await writeFile(join(f.taskDir, 'local', 'go'), '');
    assert.deepEqual(await exit, { exitCode: 3, signal: 0, oomKilled: false });
    assert.equal(await f.stdout(), 'ready\nafter\n', 'output after recovery is copied, earlier output not again');
    await d.destroy(f.cfg.id);
  });

  void it('recover: a task that ended while the agent was away reports its exit at once; a removed one is gone', async (t) => {
    if (!(await needDocker(t))) return;
    const first = newDriver();
    const f = await fixture({ config: sh('while [ ! -e /local/go ]; do sleep 0.05; done; exit 7') });
    const h = await first.start(f.cfg);
    await first.close(); // the agent lets go; the container keeps running
    await assert.rejects(first.wait(f.cfg.id), (e: unknown) => e instanceof YurtError && e.code === 'not_found');
    await writeFile(join(f.taskDir, 'local', 'go'), '');
    await until('container exit', async () => (await containerState(containerId(h))) === 'exited');

    const second = newDriver();
    assert.equal(await second.recover(h), true);
    assert.deepEqual(await second.wait(f.cfg.id), { exitCode: 7, signal: 0, oomKilled: false });
    await second.destroy(f.cfg.id);
    assert.equal(await newDriver().recover(h), false, 'container removed: nothing to recover');
    await assert.rejects(
      newDriver().recover({ ...h, state: { version: 1 } }),
      (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument' && /containerId/.test(e.message),
    );
    await assert.rejects(newDriver().recover({ ...h, driver: 'exec' }), (e: unknown) => e instanceof YurtError && e.code === 'invalid_argument');
  });

  void it('start replaces a leftover container of the same task', async (t) => {
    if (!(await needDocker(t))) return;
    const first = newDriver();
    const f = await fixture({ config: sh('echo run; sleep 100') });
    const h1 = await first.start(f.cfg);
    await first.close();
    const second = newDriver();
    const h2 = await second.start(f.cfg);
    assert.notEqual(containerId(h2), containerId(h1));
    assert.equal(await containerState(containerId(h1)), null);
    await second.stop(f.cfg.id, 'SIGKILL', 0);
    assert.equal((await second.wait(f.cfg.id)).signal, 9);
    await second.destroy(f.cfg.id);
  });

  void it('removeOrphans removes this client’s containers that no task owns, and nothing else', async (t) => {
    if (!(await needDocker(t))) return;
    const mine = newDriver({ ownerId: `${OWNER}-a` });
    const other = newDriver({ ownerId: `${OWNER}-b` });
    const fx = await fixture({ config: sh('sleep 100') });
    const fy = await fixture({ config: sh('sleep 100') });
    const fz = await fixture({ config: sh('sleep 100') });
    const hx = await mine.start(fx.cfg);
    const hy = await mine.start(fy.cfg);
    const hz = await other.start(fz.cfg);
    await mine.close(); // the agent restarts and recovers only x from its state

    const restarted = newDriver({ ownerId: `${OWNER}-a` });
    assert.equal(await restarted.recover(hx), true);
    const removed = await restarted.removeOrphans([]);
    assert.deepEqual(removed.map((r) => [r.containerId, r.taskId]), [[containerId(hy), fy.cfg.id]]);
    assert.equal(await containerState(containerId(hy)), null);
    assert.equal(await containerState(containerId(hx)), 'running');
    assert.equal(await containerState(containerId(hz)), 'running', 'another owner’s container is untouched');
    assert.deepEqual(await restarted.removeOrphans([fx.cfg.id]), []);
    await restarted.destroy(fx.cfg.id);
    await other.destroy(fz.cfg.id);
  });
});
