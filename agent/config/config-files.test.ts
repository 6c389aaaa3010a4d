import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ValidationError, YurtError } from '../../structs/errors.js';
import { expandConfigPaths, loadConfigFiles } from './config-files.js';

const testdata = fileURLToPath(new URL('./testdata/', import.meta.url));
const td = (p: string): string => join(testdata, p);

/** Asserts that loading `paths` fails with exactly this error class, code and message. */
async function rejectsWith(paths: string[], cls: abstract new (...args: never[]) => YurtError, code: string, message: string): Promise<void> {
  await assert.rejects(loadConfigFiles(paths), (e: unknown) => {
    assert.ok(e instanceof cls, `expected ${cls.name}, got ${String(e)}`);
    assert.equal(e.code, code);
    assert.equal(e.message, message);
    return true;
  });
}

void describe('loadConfigFiles', () => {
  const scratch: string[] = [];
  after(async () => {
    for (const d of scratch) await rm(d, { recursive: true, force: true });
  });
  async function writeTemp(name: string, text: string): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), 'yurt-config-test-'));
    scratch.push(dir);
    const file = join(dir, name);
    await writeFile(file, text);
    return file;
  }

  void it('reads every stanza of a full agent.hcl', async () => {
    const file = td('full.hcl');
    assert.deepEqual(await loadConfigFiles([file]), {
      dataDir: '/var/lib/yurt',
      bindAddr: '0.0.0.0',
      region: 'europe',
      datacenter: 'fra1',
      name: 'node-7',
      logLevel: 'WARN',
      logJson: true,
      ports: { http: 5646, rpc: 5647, serf: 5648 },
      addresses: { http: '127.0.0.1', rpc: '10.0.0.7', serf: '10.0.0.7' },
      advertise: { http: '10.0.0.7', rpc: '10.0.0.7:5647', serf: '[fd00::7]:5648' },
      leaveOnInterrupt: true,
      leaveOnTerminate: true,
      server: {
        enabled: true,
        bootstrapExpect: 3,
        numSchedulers: 2,
        heartbeatGraceMs: 30_000,
        minHeartbeatTtlMs: 15_000,
        maxHeartbeatsPerSecond: 25.5,
        failoverHeartbeatTtlMs: 60_000,
        jobGcThresholdMs: 7_200_000,
        deploymentGcThresholdMs: 1_800_000,
        serverJoin: { retryJoin: ['10.0.0.1', '10.0.0.2:4648'], retryIntervalMs: 15_000, retryMax: 5 },
      },
      client: {
        enabled: true,
        servers: ['10.0.0.1:4647', '10.0.0.2'],
        nodeClass: 'compute',
        nodePool: 'batch',
        // Numbers and booleans in string maps become strings, as in Nomad.
        meta: { rack: 'r12', tier: '2' },
        reserved: { cpu: 500, memory: 512, disk: 1024, reservedPorts: '22,80,8000-8100' },
        options: { 'driver.raw_exec.enable': '1', 'docker.cleanup.image': 'false' },
        networkInterface: 'eth0',
        cpuTotalCompute: 12000,
        memoryTotalMb: 16384,
        hostVolumes: {
          scratch: { path: '/mnt/scratch', readOnly: false },
          certs: { path: '/etc/ssl/certs', readOnly: true },
        },
        maxKillTimeoutMs: 120_000,
        gcIntervalMs: 300_000,
        serverJoin: { retryJoin: ['provider=aws tag_key=yurt tag_value=server'] },
      },
      telemetry: {
        prometheusMetrics: true,
        collectionIntervalMs: 10_000,
        disableHostname: true,
        publishAllocationMetrics: true,
        publishNodeMetrics: true,
      },
      tls: {
        http: true,
        rpc: true,
        caFile: '/etc/yurt/ca.pem',
        certFile: '/etc/yurt/agent.pem',
        keyFile: '/etc/yurt/agent-key.pem',
        verifyServerHostname: true,
        verifyHttpsClient: false,
        tlsMinVersion: 'tls13',
      },
      acl: { enabled: true, tokenTtlMs: 60_000, policyTtlMs: 90_000 },
      limits: { rpcRateLimit: 250, rpcRateBurst: 500 },
      files: [file],
    });
  });

  void it('loads a directory\'s *.hcl and *.json in name order and merges them', async () => {
    const dir = td('conf.d');
    assert.deepEqual(await expandConfigPaths([dir]), [join(dir, '10-base.hcl'), join(dir, '20-override.json')]);
    assert.deepEqual(await loadConfigFiles([dir]), {
      dataDir: '/var/lib/yurt',
      // A later scalar wins.
      datacenter: 'dc-b',
      logLevel: 'DEBUG',
      server: {
        enabled: true,
        bootstrapExpect: 3,
        // retry_join is replaced (Nomad's ServerJoin.Merge); retry_interval is kept.
        serverJoin: { retryJoin: ['10.0.0.9'], retryIntervalMs: 20_000 },
      },
      client: {
        enabled: true,
        // client.servers is appended (Nomad's ClientConfig.Merge).
        servers: ['10.0.0.1:4647', '10.0.0.2:4647'],
        // Maps merge key by key.
        meta: { rack: 'r1', zone: 'b', gpu: 'h100' },
        // A host volume given again is replaced whole: read_only does not carry over.
        hostVolumes: { data: { path: '/srv/data2', readOnly: false } },
      },
      files: [join(dir, '10-base.hcl'), join(dir, '20-override.json')],
    });
  });

  void it('merges files given one after another the same way', async () => {
    const a = await writeTemp('a.hcl', 'region = "r1"\nclient {\n  node_class = "x"\n}\n');
    const b = await writeTemp('b.json', '{"client": {"node_class": "y", "enabled": false}}');
    assert.deepEqual(await loadConfigFiles([a, b]), {
      region: 'r1',
      client: { nodeClass: 'y', enabled: false },
      files: [a, b],
    });
  });

  void it('accepts repeated blocks and JSON lists of blocks, merging them in order', async () => {
    const h = await writeTemp('rep.hcl', 'server {\n  enabled = true\n}\nserver {\n  bootstrap_expect = 2\n}\n');
    assert.deepEqual(await loadConfigFiles([h]), { server: { enabled: true, bootstrapExpect: 2 }, files: [h] });
    const j = await writeTemp('rep.json', '{"ports": [{"http": 1}, {"rpc": 2}], "client": {"host_volume": [{"a": {"path": "/a"}}, {"b": [{"path": "/b"}]}]}}');
    assert.deepEqual(await loadConfigFiles([j]), {
      ports: { http: 1, rpc: 2 },
      client: { hostVolumes: { a: { path: '/a', readOnly: false }, b: { path: '/b', readOnly: false } } },
      files: [j],
    });
  });

  void it('reports unknown keys with file, line and column, and a likely fix', async () => {
    const file = td('bad/unknown-key.hcl');
    await rejectsWith(
      [file],
      ValidationError,
      'validation_failed',
      [
        'agent config: 2 errors occurred:',
        `  * ${file}:3,3: server.bootstrap_expected: unknown key in server block (did you mean "bootstrap_expect"?)`,
        `  * ${file}:5,1: telemetri: unknown key at the top level (did you mean "telemetry"?)`,
      ].join('\n'),
    );
  });

  void it('reports wrong types, in file order', async () => {
    const file = td('bad/wrong-type.hcl');
    await rejectsWith(
      [file],
      ValidationError,
      'validation_failed',
      [
        'agent config: 5 errors occurred:',
        `  * ${file}:1,1: log_json: expected a boolean, got string "yes"`,
        `  * ${file}:5,3: server.bootstrap_expect: expected a number, got string "three"`,
        `  * ${file}:7,5: server.server_join.retry_join[1]: expected a string, got number 42`,
        `  * ${file}:12,3: client.gc_interval: expected a duration such as "10s" or "1m30s", got "5 minutes"`,
        `  * ${file}:13,3: client.meta: expected a map of strings, got a list`,
      ].join('\n'),
    );
  });

  void it('reports bad ports, server addresses and port ranges', async () => {
    const file = td('bad/bad-port.hcl');
    await rejectsWith(
      [file],
      ValidationError,
      'validation_failed',
      [
        'agent config: 3 errors occurred:',
        `  * ${file}:2,3: ports.http: must be between 1 and 65535, got 70000`,
        `  * ${file}:6,3: client.servers[0]: "10.0.0.1:0" is not host:port: port must be between 1 and 65535`,
        `  * ${file}:8,5: client.reserved.reserved_ports: range "9000-8000" ends before it starts`,
      ].join('\n'),
    );
  });

  void it('reports bad values in JSON files at the key\'s position', async () => {
    const file = td('bad/bad-values.json');
    await rejectsWith(
      [file],
      ValidationError,
      'validation_failed',
      [
        'agent config: 4 errors occurred:',
        `  * ${file}:2,3: log_level: must be one of TRACE, DEBUG, INFO, WARN, ERROR, got "LOUD"`,
        `  * ${file}:5,24: client.host_volume.data.path: is required`,
        `  * ${file}:5,34: client.host_volume.data.read_only: expected a boolean, got string "no"`,
        `  * ${file}:5,53: client.host_volume.data.readonly: unknown key in host_volume "data" block (did you mean "read_only"?)`,
      ].join('\n'),
    );
  });

  void it('collects the problems of every file into one error', async () => {
    const a = await writeTemp('a.hcl', 'regoin = "x"\n');
    const b = await writeTemp('b.hcl', '\nports {\n  rpc = 0\n}\n');
    await rejectsWith(
      [a, b],
      ValidationError,
      'validation_failed',
      [
        'agent config: 2 errors occurred:',
        `  * ${a}:1,1: regoin: unknown key at the top level (did you mean "region"?)`,
        `  * ${b}:3,3: ports.rpc: must be between 1 and 65535, got 0`,
      ].join('\n'),
    );
  });

  void it('rejects interpolation, unlabeled host volumes and a non-object JSON file', async () => {
    const h = await writeTemp('x.hcl', 'name = "${env.HOST}"\nbind_addr = foo\nclient {\n  host_volume {\n    path = "/x"\n  }\n}\n');
    await rejectsWith(
      [h],
      ValidationError,
      'validation_failed',
      [
        'agent config: 3 errors occurred:',
        `  * ${h}:1,1: name: expressions and interpolation are not supported in agent config, got "\${env.HOST}"`,
        `  * ${h}:2,1: bind_addr: expressions and interpolation are not supported in agent config, got "\${foo}"`,
        `  * ${h}:4,3: client.host_volume: expected host_volume blocks with a name label, like: host_volume "name" { ... }`,
      ].join('\n'),
    );
    const j = await writeTemp('x.json', '[1, 2]');
    await rejectsWith(
      [j],
      ValidationError,
      'validation_failed',
      `agent config: 1 error occurred:\n  * ${j}: (top level): expected an object of settings, got a list`,
    );
  });

  void it('reports HCL syntax errors with HCL\'s own position and text', async () => {
    const file = td('bad/syntax.hcl');
    await assert.rejects(loadConfigFiles([file]), (e: unknown) => {
      assert.ok(e instanceof YurtError && !(e instanceof ValidationError));
      assert.equal(e.code, 'parse_error');
      assert.equal(
        e.message,
        `${file}:3,21-4,1: Invalid expression; Expected the start of an expression, but found an invalid expression token.`,
      );
      assert.deepEqual(e.details, { file, line: 3, column: 21 });
      return true;
    });
  });

  void it('reports JSON syntax errors with line and column', async () => {
    const file = td('bad/syntax.json');
    await rejectsWith([file], YurtError, 'parse_error', `${file}:4,3: invalid JSON: Expected double-quoted property name`);
  });

  void it('reports a path that does not exist', async () => {
    const missing = td('no-such.hcl');
    await rejectsWith([missing], YurtError, 'invalid_argument', `cannot load config "${missing}": no such file or directory`);
  });

  void it('treats an empty file or directory as setting nothing', async () => {
    const empty = await writeTemp('empty.hcl', '# nothing here\n');
    assert.deepEqual(await loadConfigFiles([empty]), { files: [empty] });
    const emptyDir = await mkdtemp(join(tmpdir(), 'yurt-config-test-'));
    scratch.push(emptyDir);
    assert.deepEqual(await loadConfigFiles([emptyDir]), {});
  });
});
