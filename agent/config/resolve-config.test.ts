import assert from 'node:assert/strict';
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ValidationError, YurtError } from '../../structs/errors.js';
import type { AgentConfig } from './agent-config.js';
import type { ResolveOptions } from './resolve-config.js';
import { resolveAgentConfig } from './resolve-config.js';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const env: ResolveOptions = { hostname: 'test-host', cpuCount: 4, privateIp: () => '192.0.2.10' };

async function rejectsWith(argv: string[], cls: abstract new (...args: never[]) => YurtError, code: string, message: string): Promise<void> {
  await assert.rejects(resolveAgentConfig(argv, env), (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

void describe('resolveAgentConfig', () => {
  const scratch: string[] = [];
  after(async () => {
    for (const d of scratch) await rm(d, { recursive: true, force: true });
  });
  async function tempDir(): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'yurt-resolve-test-'));
    scratch.push(dir);
    return dir;
  }

  void it('fills every field with Nomad\'s defaults around the few flags given', async () => {
    const expected: AgentConfig = {
      dataDir: resolve('relative/state'),
      bindAddr: '0.0.0.0',
      region: 'global',
      datacenter: 'dc1',
      name: 'test-host',
      logLevel: 'INFO',
      logJson: false,
      ports: { http: 4646, rpc: 4647, serf: 4648 },
      addresses: { http: '0.0.0.0', rpc: '0.0.0.0', serf: '0.0.0.0' },
      // Bound to every interface: advertise the private IP, as Nomad does.
      advertise: { http: '192.0.2.10:4646', rpc: '192.0.2.10:4647', serf: '192.0.2.10:4648' },
      leaveOnInterrupt: false,
      leaveOnTerminate: false,
      server: {
        enabled: false,
        bootstrapExpect: 0,
        numSchedulers: 4,
        heartbeatGraceMs: 10_000,
        minHeartbeatTtlMs: 10_000,
        failoverHeartbeatTtlMs: 300_000,
        maxHeartbeatsPerSecond: 50,
        raftSnapshotThreshold: 8192,
        raftTrailingLogs: 10240,
        serverJoin: { retryJoin: [], retryIntervalMs: 30_000, retryMax: 0 },
        evalGcThresholdMs: 3_600_000,
        jobGcThresholdMs: 14_400_000,
        nodeGcThresholdMs: 86_400_000,
        deploymentGcThresholdMs: 3_600_000,
      },
      client: {
        enabled: true,
        servers: ['10.0.0.1:4647'],
        nodeClass: '',
        nodePool: 'default',
        meta: {},
        reserved: { cpu: 0, memory: 0, disk: 0, reservedPorts: '' },
        options: {},
        chrootEnv: {},
        networkInterface: '',
        cpuTotalCompute: 0,
        memoryTotalMb: 0,
        hostVolumes: {},
        maxKillTimeoutMs: 30_000,
        gcIntervalMs: 60_000,
        gcMaxAllocs: 50,
        gcDiskUsageThreshold: 80,
        drainOnShutdown: { enabled: false, deadlineMs: 3_600_000, force: false, ignoreSystemJobs: false },
        serverJoin: { retryJoin: [], retryIntervalMs: 30_000, retryMax: 0 },
      },
      telemetry: {
        prometheusMetrics: false,
        collectionIntervalMs: 1_000,
        disableHostname: false,
        publishAllocationMetrics: false,
        publishNodeMetrics: false,
      },
      tls: {
        http: false,
        rpc: false,
        caFile: '',
        certFile: '',
        keyFile: '',
        verifyServerHostname: false,
        verifyHttpsClient: false,
        tlsMinVersion: 'tls12',
      },
      acl: { enabled: false, tokenTtlMs: 30_000, policyTtlMs: 30_000 },
      limits: { rpcRateLimit: 1000, rpcRateBurst: 2000 },
      devMode: false,
      files: [],
    };
    // A server address without a port gets the RPC port.
    assert.deepEqual(await resolveAgentConfig(['-client', '-data-dir=relative/state', '-servers=10.0.0.1'], env), expected);
  });

  void it('resolves a full config file: advertise ports added, service addresses kept', async () => {
    const file = join(testdata, 'full.hcl');
    const c = await resolveAgentConfig(['-config', file], env);
    assert.deepEqual(c.addresses, { http: '127.0.0.1', rpc: '10.0.0.7', serf: '10.0.0.7' });
    assert.deepEqual(c.advertise, { http: '10.0.0.7:5646', rpc: '10.0.0.7:5647', serf: '[fd00::7]:5648' });
    assert.deepEqual(c.client.servers, ['10.0.0.1:4647', '10.0.0.2:4647']);
    assert.equal(c.logLevel, 'WARN');
    assert.equal(c.server.numSchedulers, 2);
    assert.deepEqual(c.files, [file]);
  });

  void it('lets flags override files, which override defaults', async () => {
    const dir = join(testdata, 'conf.d');
    const c = await resolveAgentConfig(
      ['-config', dir, '-dc=dc-flag', '-log-level=error', '-servers=10.0.0.3', '-retry-join=10.0.0.7', '-meta', 'zone=c', '-http-port=9646', '-server=false'],
      env,
    );
    assert.equal(c.datacenter, 'dc-flag');
    assert.equal(c.logLevel, 'ERROR');
    assert.equal(c.dataDir, '/var/lib/yurt'); // from the files
    assert.equal(c.region, 'global'); // default
    assert.equal(c.server.enabled, false); // an explicit -server=false beats the file
    assert.deepEqual(c.server.serverJoin, { retryJoin: ['10.0.0.7'], retryIntervalMs: 20_000, retryMax: 0 });
    // client.servers appends across files and flags, as Nomad's merge does.
    assert.deepEqual(c.client.servers, ['10.0.0.1:4647', '10.0.0.2:4647', '10.0.0.3:4647']);
    assert.deepEqual(c.client.meta, { rack: 'r1', zone: 'c', gpu: 'h100' });
    assert.deepEqual(c.ports, { http: 9646, rpc: 4647, serf: 4648 });
    assert.equal(c.advertise.http, '192.0.2.10:9646');
  });

  void it('turns ACLs on with -acl-enabled, keeping the acl stanza\'s TTLs', async () => {
    const dir = await tempDir();
    const file = join(dir, 'acl.hcl');
    await writeFile(file, 'acl {\n  token_ttl = "5s"\n}\n');
    const c = await resolveAgentConfig(['-dev', '-config', file, '-acl-enabled'], env);
    assert.deepEqual(c.acl, { enabled: true, tokenTtlMs: 5_000, policyTtlMs: 30_000 });
    assert.equal((await resolveAgentConfig(['-dev', '-config', file], env)).acl.enabled, false);
  });

  void it('gives -dev Nomad\'s development defaults and a fresh data dir', async () => {
    const c = await resolveAgentConfig(['-dev'], { ...env, tmpDir: () => '/tmp/yurt-dev-fixed' });
    assert.equal(c.devMode, true);
    assert.equal(c.dataDir, '/tmp/yurt-dev-fixed');
    assert.equal(c.bindAddr, '127.0.0.1');
    assert.deepEqual(c.addresses, { http: '127.0.0.1', rpc: '127.0.0.1', serf: '127.0.0.1' });
    assert.deepEqual(c.advertise, { http: '127.0.0.1:4646', rpc: '127.0.0.1:4647', serf: '127.0.0.1:4648' });
    assert.equal(c.logLevel, 'DEBUG');
    assert.equal(c.server.enabled, true);
    assert.equal(c.server.bootstrapExpect, 1);
    assert.equal(c.client.enabled, true);
    assert.equal(c.client.networkInterface, process.platform === 'darwin' ? 'lo0' : 'lo');
    assert.deepEqual(c.client.options, { 'driver.raw_exec.enable': 'true' });
    assert.equal(c.client.gcIntervalMs, 600_000);
    assert.deepEqual(c.telemetry, {
      prometheusMetrics: true,
      collectionIntervalMs: 1_000,
      disableHostname: false,
      publishAllocationMetrics: true,
      publishNodeMetrics: true,
    });
  });

  void it('creates a new temp directory for -dev when none is injected', async () => {
    const a = await resolveAgentConfig(['-dev'], env);
    const b = await resolveAgentConfig(['-dev'], env);
    scratch.push(a.dataDir, b.dataDir);
    assert.notEqual(a.dataDir, b.dataDir);
    assert.ok(a.dataDir.startsWith(join(tmpdir(), 'yurt-dev-')), a.dataDir);
    assert.ok((await stat(a.dataDir)).isDirectory());
  });

  void it('lets files and flags override the -dev layer', async () => {
    const dir = await tempDir();
    const file = join(dir, 'dev.hcl');
    await writeFile(file, 'log_level = "warn"\nclient {\n  enabled = false\n}\n');
    const c = await resolveAgentConfig(['-dev', '-config', file, '-data-dir', dir, '-bind=::1', '-bootstrap-expect=3'], env);
    assert.equal(c.logLevel, 'WARN');
    assert.equal(c.client.enabled, false);
    assert.equal(c.dataDir, dir);
    assert.equal(c.server.bootstrapExpect, 3);
    assert.deepEqual(c.advertise, { http: '[::1]:4646', rpc: '[::1]:4647', serf: '[::1]:4648' });
  });

  void it('rejects an agent with neither mode and no data dir', async () => {
    await rejectsWith(
      [],
      ValidationError,
      'validation_failed',
      [
        'agent config: 2 errors occurred:',
        '  * server.enabled: neither server nor client mode is enabled (use -server, -client or -dev, or set server.enabled / client.enabled)',
        '  * data_dir: is required unless the agent runs with -dev (use -data-dir or set data_dir)',
      ].join('\n'),
    );
  });

  void it('rejects a server without bootstrap_expect', async () => {
    await rejectsWith(
      ['-server', '-data-dir=/var/lib/yurt'],
      ValidationError,
      'validation_failed',
      'agent config: 1 error occurred:\n  * server.bootstrap_expect: must be >= 1 when the server is enabled, got 0 (use -bootstrap-expect or set server.bootstrap_expect)',
    );
  });

  void it('rejects TLS without a certificate and key', async () => {
    const dir = await tempDir();
    const file = join(dir, 'tls.hcl');
    await writeFile(file, 'tls {\n  http = true\n}\n');
    await rejectsWith(
      ['-client', '-data-dir', dir, '-config', file],
      ValidationError,
      'validation_failed',
      [
        'agent config: 2 errors occurred:',
        '  * tls.cert_file: is required when tls.http or tls.rpc is enabled',
        '  * tls.key_file: is required when tls.http or tls.rpc is enabled',
      ].join('\n'),
    );
  });

  void it('requires a CA for mutual TLS and makes TLS file paths absolute', async () => {
    const dir = await tempDir();
    const file = join(dir, 'tls.hcl');
    await writeFile(file, 'tls {\n  rpc = true\n  cert_file = "certs/agent.pem"\n  key_file = "certs/agent-key.pem"\n}\n');
    await rejectsWith(
      ['-client', '-data-dir', dir, '-config', file],
      ValidationError,
      'validation_failed',
      'agent config: 1 error occurred:\n  * tls.ca_file: is required when tls.rpc is enabled',
    );
    await writeFile(file, 'tls {\n  rpc = true\n  ca_file = "ca.pem"\n  cert_file = "certs/agent.pem"\n  key_file = "/etc/yurt/agent-key.pem"\n}\n');
    const c = await resolveAgentConfig(['-client', '-data-dir', dir, '-config', file]);
    assert.equal(c.tls.caFile, join(process.cwd(), 'ca.pem'));
    assert.equal(c.tls.certFile, join(process.cwd(), 'certs/agent.pem'));
    assert.equal(c.tls.keyFile, '/etc/yurt/agent-key.pem');
  });

  void it('passes file errors through with their positions', async () => {
    const file = join(testdata, 'bad', 'unknown-key.hcl');
    await assert.rejects(resolveAgentConfig(['-dev', `-config=${file}`], env), (e: unknown) => {
      assert.ok(e instanceof ValidationError);
      assert.equal(e.errors[0]?.pos, `${file}:3,3`);
      return true;
    });
  });

  void it('rejects positional arguments, bad flags and -help', async () => {
    await rejectsWith(['-dev', 'now'], YurtError, 'invalid_argument', 'unexpected argument "now": the agent takes only flags');
    await rejectsWith(['-dev', '-foo'], YurtError, 'invalid_argument', 'flag provided but not defined: -foo');
    await rejectsWith(['-h'], YurtError, 'invalid_argument', 'flag: help requested');
  });
});
