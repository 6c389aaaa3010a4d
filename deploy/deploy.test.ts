/**
 * Every deploy/ artefact checked by the real tool that consumes it: systemd-analyze for the
 * units, shellcheck for the scripts, the agent's own config loader for the HCL, cloud-init for
 * the user-data, promtool for the Prometheus files, docker and docker-compose for the image
 * and the compose file; install-yurt installs an `npm pack` release end to end into a temporary
 * root, run-yurt writes configs the agent accepts, and a real Prometheus scrapes a dev agent.
 *
 * A check whose tool is not installed fails under CI (process.env.CI) and is skipped with the
 * reason otherwise. Debian packages: systemd, shellcheck, cloud-init, prometheus,
 * prometheus-alertmanager, docker-compose, docker.io and busybox-static.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import type { SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { describe, test } from 'node:test';
import { resolveAgentConfig } from '../agent/config/index.js';
import { METRICS } from '../agent/telemetry/metric-names.js';
import { assertPromtoolClean } from '../agent/telemetry/testing/promtool.js';
import { eventually, startAgent } from '../agent/testing/agent-process.js';

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

/** A systemctl stand-in first on PATH: records its arguments, one call per line. */
function fakeSystemctl(dir: string): { env: NodeJS.ProcessEnv; calls: () => string[] } {
  const bin = join(dir, 'bin');
  const log = join(dir, 'systemctl.log');
  mkdirSync(bin, { recursive: true });
  writeFileSync(join(bin, 'systemctl'), `#!/bin/sh\necho "$*" >> '${log}'\n`, { mode: 0o755 });
  return {
    env: { ...process.env, PATH: `${bin}:${process.env['PATH'] ?? ''}` },
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n') : []),
  };
}

function runYurt(root: string, env: NodeJS.ProcessEnv, args: readonly string[]): SpawnSyncReturns<string> {
  return spawnSync('bash', [at('scripts', 'run-yurt'), ...args], { encoding: 'utf8', env: { ...env, YURT_ROOT: root }, timeout: 30_000 });
}

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
      const scripts = [at('scripts', 'install-yurt'), at('scripts', 'run-yurt'), at('docker', 'build-image.sh'), at('docker', 'docker-entrypoint.sh'), ...embedded];
      const r = run('shellcheck', ['--external-sources', ...scripts]);
      assert.equal(r.status, 0, output(r));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('run-yurt and install-yurt refuse bad arguments before touching anything', () => {
    const dir = mkdtempSync(join(tmpdir(), 'yurt-deploy-args-'));
    try {
      const root = join(dir, 'root');
      mkdirSync(root);
      const sc = fakeSystemctl(dir);
      const cases: [string[], RegExp][] = [
        [[], /give --server or --client/],
        [['--client'], /--client needs --retry-join/],
        [['--server', '--bootstrap-expect', 'three'], /must be a number/],
        [['--server', '--bootstrap-expect', '0'], /must be a number from 1/],
        [['--server', '--datacenter', 'dc"1'], /not allowed/],
        [['--server', '--retry-join', 'a b'], /not allowed/],
        [['--server', '--data-dir', 'relative/dir'], /absolute path/],
        [['--client', '--retry-join', 's1', '--bootstrap-expect', '3'], /--bootstrap-expect is for --server/],
        [['--server', '--bogus'], /unknown argument: --bogus/],
      ];
      for (const [args, message] of cases) {
        const r = runYurt(root, sc.env, args);
        assert.equal(r.status, 2, `${args.join(' ')}: ${output(r)}`);
        assert.match(r.stderr, message, args.join(' '));
      }
      for (const [args, message] of [
        [[], /give --tarball/],
        [['--tarball', join(dir, 'missing.tgz')], /no such tarball/],
      ] as [string[], RegExp][]) {
        const r = spawnSync('bash', [at('scripts', 'install-yurt'), ...args], { encoding: 'utf8', env: { ...sc.env, YURT_ROOT: root } });
        assert.equal(r.status, 2, output(r));
        assert.match(r.stderr, message);
      }
      assert.deepEqual(readdirSync(root), [], 'a refused run wrote files');
      assert.deepEqual(sc.calls(), [], 'a refused run called systemctl');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('run-yurt --server writes a config the agent accepts, then enables and starts the server unit', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yurt-deploy-run-'));
    try {
      const root = join(dir, 'root');
      const sc = fakeSystemctl(dir);
      const r = runYurt(root, sc.env, ['--server', '--retry-join', '10.0.0.11', '--retry-join', '10.0.0.12', '--retry-join', '10.0.0.13', '--datacenter', 'eu-west-1a', '--region', 'eu', '--data-dir', '/srv/yurt']);
      assert.equal(r.status, 0, output(r));
      const c = await resolveAgentConfig(['-config', join(root, 'etc', 'yurt.d')]);
      assert.equal(c.server.enabled, true);
      assert.equal(c.client.enabled, false);
      assert.equal(c.server.bootstrapExpect, 3, 'bootstrap_expect defaults to the number of servers to join');
      assert.deepEqual(c.server.serverJoin.retryJoin, ['10.0.0.11', '10.0.0.12', '10.0.0.13']);
      assert.equal(c.datacenter, 'eu-west-1a');
      assert.equal(c.region, 'eu');
      assert.equal(c.dataDir, '/srv/yurt');
      // SIGINT from systemd must not make a server leave: a restart would shrink the quorum.
      assert.equal(c.leaveOnInterrupt, false);
      assert.equal(c.telemetry.prometheusMetrics, true);
      assert.equal(c.telemetry.collectionIntervalMs, 1000);
      assert.deepEqual(sc.calls(), ['daemon-reload', 'disable yurt-client.service yurt.service', 'enable yurt-server.service', 'restart yurt-server.service']);
      // The sandboxed unit gets write access to a data dir outside its StateDirectory.
      const dropIn = readFileSync(join(root, 'etc', 'systemd', 'system', 'yurt-server.service.d', '10-data-dir.conf'), 'utf8');
      assert.match(dropIn, /^\[Service\]\nReadWritePaths=\/srv\/yurt$/m);

      // Run again as a single server with the default data dir: config replaced, drop-in gone.
      const again = runYurt(root, sc.env, ['--server', '--bootstrap-expect', '1', '--no-start']);
      assert.equal(again.status, 0, output(again));
      const c1 = await resolveAgentConfig(['-config', join(root, 'etc', 'yurt.d')]);
      assert.equal(c1.server.bootstrapExpect, 1);
      assert.deepEqual(c1.server.serverJoin.retryJoin, []);
      assert.ok(!existsSync(join(root, 'etc', 'systemd', 'system', 'yurt-server.service.d', '10-data-dir.conf')));
      assert.equal(sc.calls().length, 4, '--no-start does not touch systemd');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  void test('run-yurt --client registers with the servers on their RPC port', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'yurt-deploy-run-'));
    try {
      const root = join(dir, 'root');
      const sc = fakeSystemctl(dir);
      const r = runYurt(root, sc.env, ['--client', '--retry-join', 's1', '--retry-join', 's2:4700', '--retry-join', '10.0.0.13', '--node-class', 'gpu', '--name', 'gpu-1']);
      assert.equal(r.status, 0, output(r));
      const c = await resolveAgentConfig(['-config', join(root, 'etc', 'yurt.d')]);
      assert.equal(c.client.enabled, true);
      assert.equal(c.server.enabled, false);
      assert.deepEqual(c.client.servers, ['s1:4647', 's2:4700', '10.0.0.13:4647']);
      assert.equal(c.client.nodeClass, 'gpu');
      assert.equal(c.name, 'gpu-1');
      assert.equal(c.telemetry.publishAllocationMetrics, true);
      assert.equal(c.telemetry.publishNodeMetrics, true);
      assert.deepEqual(sc.calls(), ['daemon-reload', 'disable yurt-server.service yurt.service', 'enable yurt-client.service', 'restart yurt-client.service']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

void describe('install-yurt end to end', () => {
  void test('installs an npm pack release: runnable yurt, units, run-yurt; the installed agent starts', { timeout: 300_000 }, async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'yurt-deploy-install-'));
    let agent: ReturnType<typeof spawn> | undefined;
    try {
      // Pack the committed tree: the working tree of a shared checkout may hold other
      // people's unfinished edits that do not compile. In CI both are the same.
      const src = join(dir, 'src');
      mkdirSync(src);
      const archive = spawnSync('sh', ['-c', `git archive HEAD | tar -x -C '${src}'`], { cwd: repoDir, encoding: 'utf8' });
      const packFrom = archive.status === 0 ? src : repoDir;
      // The release as install-yurt gets it; what goes in it follows package.json and the ignore files.
      const pack = run('npm', ['pack', '--ignore-scripts', '--pack-destination', dir, '--loglevel=error'], { cwd: packFrom, timeoutMs: 120_000 });
      assert.equal(pack.status, 0, output(pack));
      const tarball = join(dir, pack.stdout.trim().split('\n').pop()!);
      assert.ok(existsSync(tarball), `npm pack made no ${tarball}`);
      // Ship this checkout's install-yurt, so the test checks the script under review even where HEAD is older.
      const root = join(dir, 'root');
      const r = spawnSync('bash', [at('scripts', 'install-yurt'), '--tarball', tarball], { encoding: 'utf8', env: { ...process.env, YURT_ROOT: root }, timeout: 240_000 });
      assert.equal(r.status, 0, output(r));

      const installed = join(root, 'opt', 'yurt');
      const version = run(process.execPath, [join(installed, 'bin', 'yurt.js'), 'version']);
      assert.equal(version.status, 0, output(version));
      assert.match(version.stdout, /^Yurt v\d+\.\d+\.\d+/);
      assert.ok(existsSync(join(installed, 'dist', 'agent', 'main.js')), 'compiled agent missing');
      assert.ok(!existsSync(join(installed, 'node_modules', 'typescript')), 'development dependencies were not pruned');
      assert.deepEqual(readdirSync(join(root, 'opt')), ['yurt'], 'staging directories left behind');
      assert.equal(readlinkSync(join(root, 'usr', 'local', 'bin', 'yurt')), '/opt/yurt/bin/yurt.js');
      assert.equal(readlinkSync(join(root, 'usr', 'local', 'bin', 'run-yurt')), '/opt/yurt/deploy/scripts/run-yurt');
      assert.equal(statSync(join(root, 'var', 'lib', 'yurt')).mode & 0o777, 0o700);
      assert.ok(statSync(join(root, 'etc', 'yurt.d')).isDirectory());

      const nodeBin = run('sh', ['-c', 'command -v node']).stdout.trim();
      for (const name of ['yurt-server.service', 'yurt-client.service', 'yurt.service']) {
        const unit = join(root, 'etc', 'systemd', 'system', name);
        const text = readFileSync(unit, 'utf8');
        // Paths inside files are the final ones, not below YURT_ROOT.
        assert.ok(text.includes(`\nExecStart=${nodeBin} /opt/yurt/bin/yurt.js agent -config /etc/yurt.d\n`), text);
        if (run('sh', ['-c', 'command -v systemd-analyze']).status === 0) {
          const v = run('systemd-analyze', ['verify', unit]);
          assert.equal(v.status, 0, output(v));
          assert.equal(v.stderr.trim(), '', output(v));
        }
      }

      // The pruned install must hold every runtime dependency: start a dev agent from it.
      const dataDir = join(dir, 'dev-data');
      const [http, rpc, serf] = [await freePort(), await freePort(), await freePort()];
      const extra = join(dir, 'ports.hcl');
      writeFileSync(extra, `data_dir = "${dataDir}"\nports {\n  http = ${http}\n  rpc = ${rpc}\n  serf = ${serf}\n}\n`);
      agent = spawn(process.execPath, [join(installed, 'bin', 'yurt.js'), 'agent', '-dev', '-bind', '127.0.0.1', '-config', extra], { stdio: 'ignore' });
      const health = await waitForHealth(`http://127.0.0.1:${http}/v1/agent/health`, 30_000);
      assert.deepEqual(health, { server: { ok: true, message: 'ok' }, client: { ok: true, message: 'ok' } });
      t.diagnostic('installed agent answered /v1/agent/health');
    } finally {
      agent?.kill('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
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
    // The unit stops it with SIGINT on every restart: that must not be a departure.
    assert.equal(c.leaveOnInterrupt, false);
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
    void test(`${role}.yaml passes cloud-init schema and runs install-yurt, then run-yurt --${role}`, (t) => {
      const file = at('cloud-init', `${role}.yaml`);
      const text = readFileSync(file, 'utf8');
      assert.ok(text.startsWith('#cloud-config\n'), 'user-data must start with #cloud-config');
      assert.match(text, new RegExp(`YURT_ROLE=${role}\\n`));
      const script = embeddedScript(file, '/usr/local/sbin/yurt-bootstrap');
      assert.match(script, /install-yurt" --tarball /);
      assert.match(script, /\/usr\/local\/bin\/run-yurt "--\$YURT_ROLE"/);
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
      'yurt_raft_leader_last_contact_seconds',
      'yurt_raft_term',
      'yurt_nomad_plan_queue_depth',
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

/** One instant-vector query through Prometheus's HTTP API: each series' labels and value. */
async function promQuery(base: string, query: string): Promise<Array<{ metric: Record<string, string>; value: number }>> {
  const res = await fetch(`${base}/api/v1/query?query=${encodeURIComponent(query)}`, { signal: AbortSignal.timeout(5_000) });
  const body = (await res.json()) as { status: string; data?: { result: Array<{ metric: Record<string, string>; value: [number, string] }> }; error?: string };
  if (body.status !== 'success' || !body.data) throw new Error(`${query}: ${body.error ?? res.status}`);
  return body.data.result.map((r) => ({ metric: r.metric, value: Number(r.value[1]) }));
}

const SERVICE_JOB = `
job "web" {
  datacenters = ["dc1"]
  type        = "service"
  group "app" {
    count = 2
    task "sleep" {
      driver = "raw_exec"
      config {
        command = "/bin/sleep"
        args    = ["600"]
      }
      resources {
        cpu    = 50
        memory = 32
      }
    }
  }
}
`;

void describe('prometheus scraping a live agent', () => {
  void test('a real Prometheus scrapes a dev agent running a job and answers for its metrics', { timeout: 180_000 }, async (t) => {
    if (!haveTool(t, 'prometheus', 'prometheus') || !haveTool(t, 'promtool', 'prometheus')) return;
    const dir = mkdtempSync(join(tmpdir(), 'yurt-deploy-prom-'));
    const agent = await startAgent(['-dev', '-data-dir', join(dir, 'agent')]);
    let prom: ReturnType<typeof spawn> | undefined;
    let promLog = '';
    try {
      const parsed = await fetch(`${agent.http}/v1/jobs/parse`, { method: 'POST', body: JSON.stringify({ JobHCL: SERVICE_JOB }) });
      assert.equal(parsed.status, 200, await parsed.clone().text());
      const reg = await fetch(`${agent.http}/v1/jobs`, { method: 'POST', body: JSON.stringify({ Job: await parsed.json() }) });
      assert.equal(reg.status, 200, await reg.text());

      const promPort = await freePort();
      const agentAddr = new URL(agent.http).host;
      // The same scrape settings as prometheus.yml, pointed at the test's agent.
      writeFileSync(
        join(dir, 'prometheus.yml'),
        [
          'global:',
          '  scrape_interval: 1s',
          'scrape_configs:',
          '  - job_name: yurt-servers',
          '    metrics_path: /v1/metrics',
          '    params:',
          '      format: [prometheus]',
          '    static_configs:',
          `      - targets: ['${agentAddr}']`,
          '',
        ].join('\n'),
      );
      prom = spawn('prometheus', [`--config.file=${join(dir, 'prometheus.yml')}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${promPort}`], {
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      prom.stdout?.on('data', (d: Buffer) => (promLog += d.toString()));
      prom.stderr?.on('data', (d: Buffer) => (promLog += d.toString()));
      const base = `http://127.0.0.1:${promPort}`;

      // The job summary, through Prometheus: both allocations of the group running. The
      // metric's own `job` label becomes `exported_job` next to Prometheus's scrape job.
      const running = await eventually(async () => {
        const r = await promQuery(base, 'yurt_nomad_job_summary_running{exported_job="web",task_group="app"}');
        return r.length === 1 && r[0]!.value === 2 ? r[0]! : undefined;
      }, 90_000, 'Prometheus to report yurt_nomad_job_summary_running 2 for web/app').catch((e: unknown) => {
        throw new Error(`${String(e)}\n--- prometheus\n${promLog.slice(-3000)}\n--- agent\n${agent.output().slice(-3000)}`);
      });
      assert.equal(running.metric['job'], 'yurt-servers');
      assert.equal(running.metric['namespace'], 'default');
      const leader = await promQuery(base, 'yurt_raft_state_leader');
      assert.deepEqual(leader.map((r) => r.value), [1]);
      const applied = await promQuery(base, 'yurt_raft_apply_total');
      assert.ok(applied.length === 1 && applied[0]!.value > 0, JSON.stringify(applied));
      const planned = await promQuery(base, 'yurt_nomad_plan_apply_seconds_count');
      assert.ok(planned.length === 1 && planned[0]!.value >= 1, JSON.stringify(planned));
      const up = await promQuery(base, 'up{job="yurt-servers"}');
      assert.deepEqual(up.map((r) => r.value), [1]);

      // What Prometheus parsed, promtool's linter accepts too.
      const exposition = await (await fetch(`${agent.http}/v1/metrics?format=prometheus`)).text();
      assertPromtoolClean(exposition);
    } finally {
      prom?.kill('SIGTERM');
      await agent.stop();
      rmSync(dir, { recursive: true, force: true });
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
