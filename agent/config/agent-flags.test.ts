import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { YurtError } from '../../structs/errors.js';
import { formatFlagHelp } from '../../structs/flags.js';
import { agentFlagSpec, configFromFlags } from './agent-flags.js';

function rejects(argv: string[], message: string): void {
  assert.throws(
    () => configFromFlags(argv),
    (e: unknown) => {
      assert.ok(e instanceof YurtError);
      assert.equal(e.code, 'invalid_argument');
      assert.equal(e.message, message);
      return true;
    },
  );
}

void describe('configFromFlags', () => {
  void it('sets nothing when no flag is given', () => {
    assert.deepEqual(configFromFlags([]), { config: {}, configPaths: [], dev: false, args: [], helpRequested: false });
  });

  void it('maps every flag onto its config field', () => {
    const r = configFromFlags([
      '-server',
      '-client',
      '-bootstrap-expect=3',
      '-data-dir',
      '/var/lib/yurt',
      '-config=/etc/yurt.d',
      '-config',
      'extra.hcl',
      '-servers=10.0.0.1:4647,10.0.0.2',
      '-retry-join=10.0.0.1',
      '-retry-join',
      '10.0.0.2',
      '-node-class=gpu',
      '-node-pool=batch',
      '-meta',
      'rack=r1',
      '-meta=owner=team=a',
      '-region=eu',
      '-dc=fra1',
      '-bind=10.0.0.5',
      '-http-port=8646',
      '-rpc-port',
      '8647',
      '-name=n1',
      '-log-level=debug',
      '-log-json',
      '-acl-enabled',
    ]);
    assert.deepEqual(r, {
      config: {
        dataDir: '/var/lib/yurt',
        bindAddr: '10.0.0.5',
        region: 'eu',
        datacenter: 'fra1',
        name: 'n1',
        logLevel: 'DEBUG',
        logJson: true,
        ports: { http: 8646, rpc: 8647 },
        server: { enabled: true, bootstrapExpect: 3, serverJoin: { retryJoin: ['10.0.0.1', '10.0.0.2'] } },
        client: {
          enabled: true,
          servers: ['10.0.0.1:4647', '10.0.0.2'],
          nodeClass: 'gpu',
          nodePool: 'batch',
          // Only the first '=' splits, so values may contain '='.
          meta: { rack: 'r1', owner: 'team=a' },
        },
        acl: { enabled: true },
      },
      configPaths: ['/etc/yurt.d', 'extra.hcl'],
      dev: false,
      args: [],
      helpRequested: false,
    });
  });

  void it('treats -node as -name, and sets a boolean to false only when told', () => {
    assert.deepEqual(configFromFlags(['-node', 'n2']).config, { name: 'n2' });
    assert.deepEqual(configFromFlags(['-server=false', '-log-json=false']).config, { logJson: false, server: { enabled: false } });
    assert.deepEqual(configFromFlags(['-acl-enabled=false']).config, { acl: { enabled: false } });
  });

  void it('reports -dev, positional arguments and help', () => {
    const r = configFromFlags(['-dev', 'extra']);
    assert.equal(r.dev, true);
    assert.deepEqual(r.args, ['extra']);
    assert.equal(configFromFlags(['-help']).helpRequested, true);
  });

  void it('rejects bad flag values with the flag named', () => {
    rejects(['-bogus'], 'flag provided but not defined: -bogus');
    rejects(['-data-dir'], 'flag needs an argument: -data-dir');
    rejects(['-http-port=0'], 'invalid value "0" for flag -http-port: must be between 1 and 65535, got 0');
    rejects(['-rpc-port=http'], 'invalid value "http" for flag -rpc-port: parse error');
    rejects(['-log-level=loud'], 'invalid value "loud" for flag -log-level: must be one of TRACE, DEBUG, INFO, WARN, ERROR, got "loud"');
    rejects(['-meta', 'rack'], 'invalid value "rack" for flag -meta: expected key=value');
    rejects(['-servers=a:1,b:x'], 'invalid value "b:x" for flag -servers: "b:x" is not host:port: port must be between 1 and 65535');
    rejects(['-bind={{ GetPrivateIP }}'], 'invalid value "{{ GetPrivateIP }}" for flag -bind: go-sockaddr templates are not supported, got "{{ GetPrivateIP }}"');
    rejects(['-bootstrap-expect=-1'], 'invalid value "-1" for flag -bootstrap-expect: must be >= 0, got -1');
  });

  void it('documents every flag in the help text', () => {
    const help = formatFlagHelp(agentFlagSpec);
    for (const name of Object.keys(agentFlagSpec)) assert.match(help, new RegExp(`^  -${name}\\b`, 'm'));
    assert.match(help, /^ {2}-name=<name>, -node=<name>$/m);
  });
});
