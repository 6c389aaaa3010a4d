import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { YurtError } from './errors.js';
import { defineFlags, formatFlagHelp, isGoDuration, parseFlags } from './flags.js';

const spec = defineFlags({
  dev: { type: 'bool', help: 'Start in development mode.' },
  verbose: { type: 'bool', default: true, help: 'Talk a lot.' },
  'data-dir': { type: 'string', placeholder: 'path', help: 'Where state lives.' },
  region: { type: 'string', default: 'global', help: 'The region.' },
  'http-port': {
    type: 'int',
    default: 4646,
    placeholder: 'port',
    help: 'HTTP port.',
    validate: (n) => (n >= 1 && n <= 65535 ? undefined : 'must be between 1 and 65535'),
  },
  count: { type: 'int', help: 'How many.' },
  interval: { type: 'duration', default: '30s', help: 'How often.' },
  meta: {
    type: 'stringList',
    placeholder: 'key=value',
    help: 'Metadata, repeatable.',
    validate: (s) => (s.includes('=') ? undefined : 'expected key=value'),
  },
  servers: { type: 'stringList', split: ',', help: 'Comma-separated servers.' },
  name: { type: 'string', aliases: ['node'], help: 'Node name.' },
});

function rejects(argv: string[], message: string): void {
  assert.throws(
    () => parseFlags(argv, spec),
    (e: unknown) => {
      assert.ok(e instanceof YurtError);
      assert.equal(e.code, 'invalid_argument');
      assert.equal(e.message, message);
      return true;
    },
  );
}

void describe('parseFlags', () => {
  void it('gives defaults when nothing is set, with undefined for flags without one', () => {
    const { flags, args, set, helpRequested } = parseFlags([], spec);
    assert.deepEqual(flags, {
      dev: false,
      verbose: true,
      'data-dir': undefined,
      region: 'global',
      'http-port': 4646,
      count: undefined,
      interval: '30s',
      meta: [],
      servers: [],
      name: undefined,
    });
    assert.deepEqual(args, []);
    assert.equal(set.size, 0);
    assert.equal(helpRequested, false);
  });

  void it('accepts -name, --name, -name=value and -name value', () => {
    const { flags, set } = parseFlags(['-dev', '--data-dir', '/var/yurt', '-region=eu', '--http-port=8080', '-count', '7'], spec);
    assert.equal(flags.dev, true);
    assert.equal(flags['data-dir'], '/var/yurt');
    assert.equal(flags.region, 'eu');
    assert.equal(flags['http-port'], 8080);
    assert.equal(flags.count, 7);
    assert.deepEqual([...set].sort(), ['count', 'data-dir', 'dev', 'http-port', 'region']);
  });

  void it('reads booleans only in the -flag=value form, with Go spellings', () => {
    assert.equal(parseFlags(['-verbose=false'], spec).flags.verbose, false);
    assert.equal(parseFlags(['-dev=1'], spec).flags.dev, true);
    assert.equal(parseFlags(['-dev=F'], spec).flags.dev, false);
    // As in Go, "-dev false" is the flag followed by a positional argument.
    const r = parseFlags(['-dev', 'false'], spec);
    assert.equal(r.flags.dev, true);
    assert.deepEqual(r.args, ['false']);
    rejects(['-dev=yes'], 'invalid boolean value "yes" for -dev: parse error');
  });

  void it('appends repeatable flags and splits list flags on their separator', () => {
    const { flags } = parseFlags(['-meta', 'rack=r1', '-meta=zone=a', '-servers', 'a:4647, b:4647', '-servers=c:4647'], spec);
    assert.deepEqual(flags.meta, ['rack=r1', 'zone=a']);
    assert.deepEqual(flags.servers, ['a:4647', 'b:4647', 'c:4647']);
  });

  void it('lets flags and positional arguments mix, and stops at --', () => {
    const { flags, args } = parseFlags(['job.hcl', '-dev', 'other', '-region', 'eu', '--', '-count', '-'], spec);
    assert.equal(flags.dev, true);
    assert.equal(flags.region, 'eu');
    assert.equal(flags.count, undefined);
    assert.deepEqual(args, ['job.hcl', 'other', '-count', '-']);
  });

  void it('stops at the first argument when interspersed is off (Go behaviour)', () => {
    const { flags, args } = parseFlags(['-dev', 'exec', '-count', '3'], spec, { interspersed: false });
    assert.equal(flags.dev, true);
    assert.equal(flags.count, undefined);
    assert.deepEqual(args, ['exec', '-count', '3']);
  });

  void it('resolves aliases to the canonical name', () => {
    const r = parseFlags(['-node', 'n1'], spec);
    assert.equal(r.flags.name, 'n1');
    assert.deepEqual([...r.set], ['name']);
  });

  void it('reports -h / -help / --help instead of failing', () => {
    const r = parseFlags(['-dev', '--help', '-bogus'], spec);
    assert.equal(r.helpRequested, true);
    assert.equal(r.flags.dev, true);
    assert.equal(parseFlags(['-h'], spec).helpRequested, true);
  });

  void it('rejects unknown flags with Go\'s message', () => {
    rejects(['-foo'], 'flag provided but not defined: -foo');
    rejects(['job.hcl', '--foo=1'], 'flag provided but not defined: -foo');
  });

  void it('rejects a missing value, including when the next word is another flag', () => {
    rejects(['-data-dir'], 'flag needs an argument: -data-dir');
    rejects(['-data-dir', '-dev'], 'flag needs an argument: -data-dir');
    rejects(['-region', '--'], 'flag needs an argument: -region');
    // A value that only looks like a flag is still a value.
    assert.equal(parseFlags(['-name', '-x-'], spec).flags.name, '-x-');
  });

  void it('rejects bad numbers, durations and values the spec refuses', () => {
    rejects(['-count=abc'], 'invalid value "abc" for flag -count: parse error');
    rejects(['-count', '1.5'], 'invalid value "1.5" for flag -count: parse error');
    rejects(['-count=99999999999999999999'], 'invalid value "99999999999999999999" for flag -count: value out of range');
    rejects(['-http-port=70000'], 'invalid value "70000" for flag -http-port: must be between 1 and 65535');
    rejects(['-interval=5x'], 'invalid value "5x" for flag -interval: not a duration (examples: "10s", "1m30s", "500ms")');
    rejects(['-meta', 'novalue'], 'invalid value "novalue" for flag -meta: expected key=value');
  });

  void it('rejects malformed flag syntax', () => {
    rejects(['---dev'], 'bad flag syntax: ---dev');
    rejects(['-=x'], 'bad flag syntax: -=x');
  });

  void it('keeps durations as the strings given', () => {
    assert.equal(parseFlags(['-interval', '1h30m'], spec).flags.interval, '1h30m');
  });

  void it('infers each flag\'s type from the spec (checked by tsc)', () => {
    const { flags } = parseFlags(['-count=2'], spec);
    type Exact<A, B> = (<T>() => T extends A ? 1 : 2) extends <T>() => T extends B ? 1 : 2 ? true : false;
    const inferred: Exact<
      typeof flags,
      {
        dev: boolean;
        verbose: boolean;
        'data-dir': string | undefined;
        region: string;
        'http-port': number;
        count: number | undefined;
        interval: string;
        meta: string[];
        servers: string[];
        name: string | undefined;
      }
    > = true;
    assert.equal(inferred, true);
    assert.equal(flags.count, 2);
  });

  void it('refuses a spec that declares a name twice', () => {
    assert.throws(
      () => parseFlags([], { a: { type: 'bool', help: '' }, b: { type: 'bool', aliases: ['a'], help: '' } }),
      /flag -a is declared twice/,
    );
  });
});

void describe('isGoDuration', () => {
  void it('accepts Go duration syntax only', () => {
    for (const ok of ['0', '10s', '1h30m', '1.5h', '.5s', '300ms', '2us', '2µs', '-1m', '+5ns']) assert.ok(isGoDuration(ok), ok);
    for (const bad of ['', '10', 's', '1d', '1 s', '1.2.3s', '10S']) assert.ok(!isGoDuration(bad), bad);
  });
});

void describe('formatFlagHelp', () => {
  void it('prints Nomad-style usage with placeholders, aliases, defaults and wrapped help', () => {
    const text = formatFlagHelp(
      defineFlags({
        dev: { type: 'bool', help: 'Start the agent in development mode.' },
        'http-port': { type: 'int', default: 4646, placeholder: 'port', help: 'The port the HTTP API listens on.' },
        name: { type: 'string', aliases: ['node'], help: 'The name of the local agent. '.repeat(4) },
        interval: { type: 'duration', default: '30s', help: 'How often.' },
        meta: { type: 'stringList', placeholder: 'key=value', help: 'Metadata.' },
      }),
      64,
    );
    assert.equal(
      text,
      [
        '  -dev',
        '    Start the agent in development mode.',
        '',
        '  -http-port=<port>',
        '    The port the HTTP API listens on. (default: 4646)',
        '',
        '  -name=<string>, -node=<string>',
        '    The name of the local agent. The name of the local agent.',
        '    The name of the local agent. The name of the local agent.',
        '',
        '  -interval=<duration>',
        '    How often. (default: "30s")',
        '',
        '  -meta=<key=value>',
        '    Metadata.',
        '',
      ].join('\n'),
    );
  });
});
