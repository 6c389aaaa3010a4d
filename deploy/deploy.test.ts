/**
 * Every deploy/ artefact checked by the real tool that consumes it: systemd-analyze for the
 * units, shellcheck for the scripts, the agent's own config loader for the HCL, cloud-init for
 * the user-data, promtool for the Prometheus files, docker and docker-compose for the image
 * and the compose file; install.sh runs end to end into a temporary prefix.
 *
 * A check whose tool is not installed fails under CI (process.env.CI) and is skipped with the
 * reason otherwise. Debian packages: systemd, shellcheck, cloud-init, prometheus,
 * prometheus-alertmanager, docker-compose, docker.io and busybox-static.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { resolveAgentConfig } from '../agent/config/index.js';
import { METRICS } from '../agent/telemetry/metric-names.js';

const deployDir = new URL('.', import.meta.url).pathname;
const repoDir = join(deployDir, '..');
const at = (...p: string[]): string => join(deployDir, ...p);

function run(cmd: string, args: readonly string[], opts: { cwd?: string; timeoutMs?: number } = {}): SpawnSyncReturns<string> {
  return spawnSync(cmd, args, { encoding: 'utf8', cwd: opts.cwd ?? repoDir, timeout: opts.timeoutMs ?? 60_000 });
}

function output(r: SpawnSyncReturns<string>): string {
  return `exit ${r.status ?? r.signal}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`;
}

/** True when `command` is on PATH; otherwise fails under CI and skips the test elsewhere. */
function haveTool(t: TestContext, command: string, debianPackage: string): boolean {
  if (run('sh', ['-c', `command -v ${command}`]).status === 0) return true;
  const reason = `${command} is not installed (apt-get install ${debianPackage})`;
  if (process.env.CI) assert.fail(reason);
  console.log(`# skipped: ${reason}`);
  t.skip(reason);
  return false;
}

function dockerAnswers(t: TestContext): boolean {
  if (!haveTool(t, 'docker', 'docker.io')) return false;
  if (run('docker', ['info'], { timeoutMs: 20_000 }).status === 0) return true;
  const reason = 'the Docker engine does not answer (start dockerd)';
  if (process.env.CI) assert.fail(reason);
  console.log(`# skipped: ${reason}`);
  t.skip(reason);
  return false;
}

/** The shell script embedded in a cloud-init file under `content: |` of the given path. */
function embeddedScript(yamlFile: string, path: string): string {
  const lines = readFileSync(yamlFile, 'utf8').split('\n');
  const start = lines.findIndex((l) => l.trim() === `- path: ${path}`);
  assert.ok(start >= 0, `${yamlFile} writes no ${path}`);
  const content = lines.findIndex((l, i) => i > start && l.trim() === 'content: |');
  const body: string[] = [];
  const indent = /^\s*/.exec(lines[content + 1] ?? '')?.[0].length ?? 0;
  for (const l of lines.slice(content + 1)) {
    if (l.trim() !== '' && (/^\s*/.exec(l)?.[0].length ?? 0) < indent) break;
    body.push(l.slice(indent));
  }
  return body.join('\n');
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      s.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

async function waitForHealth(url: string, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  while (Date.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(2_000) });
      if (res.status === 200) return await res.json();
      last = `HTTP ${res.status}`;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} not healthy after ${timeoutMs} ms: ${String(last)}`);
}

void describe('systemd units', () => {
  const units = ['yurt-server.service', 'yurt-client.service', 'yurt.service'].map((u) => at('systemd', u));

  void test('pass systemd-analyze verify without a warning', (t) => {
    if (!haveTool(t, 'systemd-analyze', 'systemd')) return;
    const r = run('systemd-analyze', ['verify', ...units]);
    assert.equal(r.status, 0, output(r));
    // verify exits 0 on unknown keys and misplaced settings, reporting them on stderr only.
    assert.equal(r.stderr.trim(), '', output(r));
  });

  void test('run the server unprivileged and the client as root, both stopped with SIGINT', () => {
    const server = readFileSync(units[0]!, 'utf8');
    const client = readFileSync(units[1]!, 'utf8');
    assert.match(server, /^User=yurt$/m);
    assert.match(server, /^NoNewPrivileges=yes$/m);
    assert.match(server, /^ProtectSystem=strict$/m);
    assert.match(client, /^User=root$/m);
    // Tasks must outlive an agent restart: only the agent process gets the signal.
    assert.match(client, /^KillMode=process$/m);
    for (const unit of [server, client]) {
      assert.match(unit, /^KillSignal=SIGINT$/m);
      assert.match(unit, /^Restart=on-failure$/m);
      assert.match(unit, /^ExecStart=\/usr\/bin\/node \/opt\/yurt\/bin\/yurt\.js agent -config \/etc\/yurt\.d$/m);
    }
  });

  void test('README has systemd-run recipes for ad-hoc agents', () => {
    const readme = readFileSync(at('README.md'), 'utf8');
    assert.match(readme, /systemd-run .*--unit=\S+ .*yurt\.js agent -server/);
    assert.match(readme, /systemd-run .*yurt\.js agent -client/);
  });
});

void describe('shell scripts', () => {
  void test('pass shellcheck, including the scripts embedded in cloud-init', (t) => {
    if (!haveTool(t, 'shellcheck', 'shellcheck')) return;
    const dir = mkdtempSync(join(tmpdir(), 'yurt-deploy-sh-'));
    try {
      const embedded = ['server', 'client'].map((role) => {
        const f = join(dir, `yurt-bootstrap-${role}.sh`);
        writeFileSync(f, embeddedScript(at('cloud-init', `${role}.yaml`), '/usr/local/sbin/yurt-bootstrap'));
        return f;
      });
      const scripts = [at('install.sh'), at('docker', 'build-image.sh'), at('docker', 'docker-entrypoint.sh'), ...embedded];
      const r = run('shellcheck', ['--external-sources', ...scripts]);
      assert.equal(r.status, 0, output(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('install.sh refuses bad arguments before touching anything', () => {
    const prefix = mkdtempSync(join(tmpdir(), 'yurt-deploy-args-'));
    try {
      const cases: [string[], RegExp][] = [
        [[], /give --server or --client/],
        [['--client'], /--client needs --servers/],
        [['--server', '--bootstrap-expect', 'three'], /must be a number/],
        [['--server', '--datacenter', 'dc"1'], /not allowed/],
        [['--server', '--data-dir', 'relative/dir'], /absolute path/],
        [['--server', '--bogus'], /unknown argument: --bogus/],
      ];
      for (const [args, message] of cases) {
        const r = run('bash', [at('install.sh'), '--prefix', prefix, ...args]);
        assert.equal(r.status, 2, `${args.join(' ')}: ${output(r)}`);
        assert.match(r.stderr, message, args.join(' '));
      }
      assert.deepEqual(readdirSync(prefix), []);
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});

void describe('install.sh end to end', () => {
  void test('installs a runnable yurt, a server config the agent accepts and a unit', { timeout: 240_000 }, async (t) => {
    const src = mkdtempSync(join(tmpdir(), 'yurt-deploy-src-'));
    const prefix = mkdtempSync(join(tmpdir(), 'yurt-deploy-prefix-'));
    let agent: ReturnType<typeof spawn> | undefined;
    try {
      // Install the committed tree: the working tree of a shared checkout may hold other
      // people's unfinished edits that do not compile. In CI both are the same.
      const archive = spawnSync('sh', ['-c', `git archive HEAD | tar -x -C '${src}'`], { cwd: repoDir, encoding: 'utf8' });
      const source = archive.status === 0 ? src : repoDir;
      const r = run('bash', [at('install.sh'), '--server', '--servers', 's1,s2,s3', '--prefix', prefix, '--source', source, '--data-dir', '/srv/yurt'], {
        timeoutMs: 220_000,
      });
      assert.equal(r.status, 0, output(r));

      const installed = join(prefix, 'opt', 'yurt');
      const version = run(process.execPath, [join(installed, 'bin', 'yurt.js'), 'version']);
      assert.equal(version.status, 0, output(version));
      assert.match(version.stdout, /^Yurt v\d+\.\d+\.\d+/);
      assert.ok(existsSync(join(installed, 'dist', 'agent', 'main.js')), 'compiled agent missing');
      assert.ok(!existsSync(join(installed, 'node_modules', 'typescript')), 'development dependencies were not pruned');
      assert.deepEqual(readdirSync(join(prefix, 'opt')), ['yurt'], 'staging directories left behind');

      const config = await resolveAgentConfig(['-config', join(prefix, 'etc', 'yurt.d')]);
      assert.equal(config.server.enabled, true);
      assert.equal(config.client.enabled, false);
      assert.equal(config.server.bootstrapExpect, 3);
      assert.deepEqual(config.server.serverJoin.retryJoin, ['s1', 's2', 's3']);
      assert.equal(config.dataDir, '/srv/yurt');
      assert.equal(config.telemetry.prometheusMetrics, true);

      const unit = join(prefix, 'etc', 'systemd', 'system', 'yurt-server.service');
      const unitText = readFileSync(unit, 'utf8');
      assert.ok(unitText.includes(`ExecStart=${process.execPath} ${installed}/bin/yurt.js agent -config ${prefix}/etc/yurt.d\n`), unitText);
      assert.match(unitText, /^ReadWritePaths=\/srv\/yurt$/m);
      if (run('sh', ['-c', 'command -v systemd-analyze']).status === 0) {
        const v = run('systemd-analyze', ['verify', unit]);
        assert.equal(v.status, 0, output(v));
        assert.equal(v.stderr.trim(), '', output(v));
      }

      // The pruned install must hold every runtime dependency: start a dev agent from it.
      const dataDir = join(prefix, 'dev-data');
      const [http, rpc, serf] = [await freePort(), await freePort(), await freePort()];
      const extra = join(prefix, 'ports.hcl');
      writeFileSync(extra, `data_dir = "${dataDir}"\nports {\n  http = ${http}\n  rpc = ${rpc}\n  serf = ${serf}\n}\n`);
      agent = spawn(process.execPath, [join(installed, 'bin', 'yurt.js'), 'agent', '-dev', '-config', extra], { stdio: 'ignore' });
      const health = await waitForHealth(`http://127.0.0.1:${http}/v1/agent/health`, 30_000);
      assert.deepEqual(health, { server: { ok: true, message: 'ok' }, client: { ok: true, message: 'ok' } });
      t.diagnostic('installed agent answered /v1/agent/health');
    } finally {
      agent?.kill('SIGKILL');
      rmSync(src, { recursive: true, force: true });
      rmSync(prefix, { recursive: true, force: true });
    }
  });

  void test('--config-only writes a client config the agent accepts', async () => {
    const prefix = mkdtempSync(join(tmpdir(), 'yurt-deploy-client-'));
    try {
      const r = run('bash', [at('install.sh'), '--client', '--servers', 'a:4647,b:4647,c:4647', '--node-class', 'gpu', '--config-only', '--prefix', prefix]);
      assert.equal(r.status, 0, output(r));
      const config = await resolveAgentConfig(['-config', join(prefix, 'etc', 'yurt.d')]);
      assert.equal(config.client.enabled, true);
      assert.equal(config.server.enabled, false);
      assert.deepEqual(config.client.servers, ['a:4647', 'b:4647', 'c:4647']);
      assert.equal(config.client.nodeClass, 'gpu');
      assert.ok(existsSync(join(prefix, 'etc', 'systemd', 'system', 'yurt-client.service')));
      assert.ok(!existsSync(join(prefix, 'opt', 'yurt')), '--config-only installed the app');
    } finally {
      rmSync(prefix, { recursive: true, force: true });
    }
  });
});

void describe('example agent configs', () => {
  void test('server.hcl is a server of a three-server cluster', async () => {
    const c = await resolveAgentConfig(['-config', at('config', 'server.hcl')]);
    assert.equal(c.server.enabled, true);
    assert.equal(c.client.enabled, false);
    assert.equal(c.server.bootstrapExpect, 3);
    assert.equal(c.server.serverJoin.retryJoin.length, 3);
    assert.equal(c.leaveOnInterrupt, false);
    assert.equal(c.telemetry.prometheusMetrics, true);
  });

  void test('client.hcl is a client of the three servers', async () => {
    const c = await resolveAgentConfig(['-config', at('config', 'client.hcl')]);
    assert.equal(c.client.enabled, true);
    assert.equal(c.server.enabled, false);
    assert.deepEqual(c.client.servers, ['yurt-server-1:4647', 'yurt-server-2:4647', 'yurt-server-3:4647']);
    assert.equal(c.client.reserved.memory, 256);
    assert.equal(c.telemetry.publishAllocationMetrics, true);
  });

  void test("the image's base config takes the role from flags, as compose.yaml passes them", async () => {
    const server = await resolveAgentConfig(['-config', at('docker', 'agent.hcl'), '-server', '-bootstrap-expect=3', '-retry-join=yurt-server-1']);
    assert.equal(server.server.bootstrapExpect, 3);
    assert.equal(server.dataDir, '/var/lib/yurt');
    const client = await resolveAgentConfig(['-config', at('docker', 'agent.hcl'), '-client', '-servers=yurt-server-1:4647,yurt-server-2:4647']);
    assert.deepEqual(client.client.servers, ['yurt-server-1:4647', 'yurt-server-2:4647']);
  });
});

void describe('cloud-init user-data', () => {
  for (const role of ['server', 'client']) {
    void test(`${role}.yaml passes cloud-init schema and runs install.sh --${role}`, (t) => {
      const file = at('cloud-init', `${role}.yaml`);
      const text = readFileSync(file, 'utf8');
      assert.ok(text.startsWith('#cloud-config\n'), 'user-data must start with #cloud-config');
      assert.match(text, new RegExp(`YURT_ROLE=${role}\\n`));
      assert.match(embeddedScript(file, '/usr/local/sbin/yurt-bootstrap'), /deploy\/install\.sh" "--\$YURT_ROLE"/);
      if (!haveTool(t, 'cloud-init', 'cloud-init')) return;
      const r = run('cloud-init', ['schema', '--config-file', file]);
      assert.equal(r.status, 0, output(r));
      assert.match(r.stdout, /Valid cloud-config/);
    });
  }
});

void describe('prometheus', () => {
  const dir = at('prometheus');

  void test('promtool check config accepts the scrape config', (t) => {
    if (!haveTool(t, 'promtool', 'prometheus')) return;
    const r = run('promtool', ['check', 'config', 'prometheus.yml'], { cwd: dir });
    assert.equal(r.status, 0, output(r));
  });

  void test('promtool check rules accepts the alert rules', (t) => {
    if (!haveTool(t, 'promtool', 'prometheus')) return;
    const r = run('promtool', ['check', 'rules', 'yurt-alerts.yml'], { cwd: dir });
    assert.equal(r.status, 0, output(r));
    assert.match(r.stdout, /SUCCESS: \d+ rules found/);
  });

  void test('the alerts fire as their unit tests expect (promtool test rules)', (t) => {
    if (!haveTool(t, 'promtool', 'prometheus')) return;
    const r = run('promtool', ['test', 'rules', 'yurt-alerts.test.yml'], { cwd: dir });
    assert.equal(r.status, 0, output(r));
  });

  void test('amtool check-config accepts the Alertmanager example', (t) => {
    if (!haveTool(t, 'amtool', 'prometheus-alertmanager')) return;
    const r = run('amtool', ['check-config', 'alertmanager.yml'], { cwd: dir });
    assert.equal(r.status, 0, output(r));
  });

  void test('rules and their tests use only metrics the agent defines', () => {
    const defined = new Map<string, string>(Object.values(METRICS).map((m) => [m.name, m.kind]));
    for (const file of ['yurt-alerts.yml', 'yurt-alerts.test.yml']) {
      const used = new Set(readFileSync(join(dir, file), 'utf8').match(/\byurt_[A-Za-z0-9_]+/g) ?? []);
      assert.ok(used.size > 0, `${file} uses no yurt_ metric`);
      for (const name of used) {
        // A histogram is exposed as NAME_bucket, NAME_sum and NAME_count.
        const base = name.replace(/_(bucket|sum|count)$/, '');
        const kind = defined.get(name) ?? defined.get(base);
        assert.ok(kind !== undefined, `${file}: ${name} is not in agent/telemetry/metric-names.ts`);
        if (name !== base && !defined.has(name)) assert.equal(kind, 'histogram', `${file}: ${name} suffixes a ${kind}`);
      }
    }
    const rules = readFileSync(join(dir, 'yurt-alerts.yml'), 'utf8');
    for (const name of [
      'yurt_raft_state_leader',
      'yurt_raft_leader_lastContact',
      'yurt_nomad_heartbeat_active',
      'yurt_client_unallocated_memory',
      'yurt_nomad_job_summary_failed',
      'yurt_nomad_blocked_evals_total_blocked',
      'yurt_runtime_event_loop_lag_seconds',
    ]) {
      assert.ok(rules.includes(name), `no rule uses ${name}`);
    }
  });
});

void describe('container image and compose', () => {
  void test('docker-compose config accepts compose.yaml with 3 servers and 2 clients', (t) => {
    if (!haveTool(t, 'docker-compose', 'docker-compose')) return;
    const r = run('docker-compose', ['-f', at('docker', 'compose.yaml'), 'config', '--services']);
    assert.equal(r.status, 0, output(r));
    assert.deepEqual(r.stdout.trim().split('\n').sort(), ['yurt-client-1', 'yurt-client-2', 'yurt-server-1', 'yurt-server-2', 'yurt-server-3']);
  });

  void test('build-image.sh builds offline; the image runs `yurt version` and a healthy -dev agent', { timeout: 180_000 }, async (t) => {
    if (!dockerAnswers(t)) return;
    if (!existsSync('/bin/busybox')) {
      const reason = '/bin/busybox missing (apt-get install busybox-static)';
      if (process.env.CI) assert.fail(reason);
      t.skip(reason);
      return;
    }
    const id = `${process.pid}-${Date.now()}`;
    const tag = `yurt-deploy-test:${id}`;
    const baseTag = `yurt-deploy-test-base:${id}`;
    let container = '';
    try {
      const started = Date.now();
      const build = run('bash', [at('docker', 'build-image.sh'), '--tag', tag, '--base-tag', baseTag], { timeoutMs: 150_000 });
      assert.equal(build.status, 0, output(build));
      t.diagnostic(`image built in ${Date.now() - started} ms`);

      const version = run('docker', ['run', '--rm', '--network', 'none', tag, 'version']);
      assert.equal(version.status, 0, output(version));
      assert.match(version.stdout, /^Yurt v\d+\.\d+\.\d+/);

      // The image's default command: a dev agent on every interface, reached on the
      // container's own address on Docker's bridge.
      const runR = run('docker', ['run', '-d', '--rm', tag]);
      assert.equal(runR.status, 0, output(runR));
      container = runR.stdout.trim();
      const ip = run('docker', ['inspect', '-f', '{{.NetworkSettings.IPAddress}}', container]).stdout.trim();
      assert.match(ip, /^\d+\.\d+\.\d+\.\d+$/);
      // Ready means both the server and the client (registered) report ok; keep asking until then.
      const health = await waitForHealth(`http://${ip}:4646/v1/agent/health`, 30_000).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${run('docker', ['logs', container]).stderr}`);
      });
      assert.deepEqual(health, { server: { ok: true, message: 'ok' }, client: { ok: true, message: 'ok' } });
    } finally {
      if (container !== '') run('docker', ['rm', '-f', container]);
      run('docker', ['rmi', '-f', tag, baseTag]);
    }
  });
});
