/**
 * Fuzzing agent configuration with fast-check (fixed seeds, bounded runs): config files
 * (HCL and JSON, near-misses of real ones) and command-line flags either resolve to a
 * config or fail with a YurtError a user can act on (a parse error with its position, a
 * ValidationError naming the field) — never another exception, never `internal`.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import fc from 'fast-check';
import { YurtError } from '../../structs/errors.js';
import { loadConfigFiles } from './config-files.js';
import { resolveAgentConfig } from './resolve-config.js';

const SEED = 20261122;
const dir = mkdtempSync(join(tmpdir(), 'yurt-config-fuzz-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const testdata = (name: string): string => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const hclSeeds = [testdata('full.hcl'), testdata('conf.d/10-base.hcl'), 'tls {\n  http = true\n  rpc = true\n  ca_file = "ca.pem"\n  cert_file = "a.pem"\n  key_file = "a-key.pem"\n  tls_min_version = "tls13"\n}\n'];
const jsonSeeds = [testdata('conf.d/20-override.json'), JSON.stringify({ server: { enabled: true, bootstrap_expect: 3, server_join: { retry_join: ['a', 'b'] } }, client: { enabled: true, reserved: { cpu: 100 } }, ports: { http: 1 } })];

const tokens = ['{', '}', '[', ']', '"', '=', ',', ':', '\n', '#', '-1', '0', '99999999999', '1e9', 'true', 'null', '"5m"', '"-5s"', '"1y"', '"tls99"', 'server', 'client', 'tls', 'ports', 'retry_join', 'meta', 'host_volume "x" {', '${', '\0', '🙂', '\nconstructor = 1\n', '\n__proto__ { x = 1 }\n', '\nmeta {\n  toString = "x"\n}\n', '"__proto__": {"x": 1}, '];

type Edit = { at: number; del: number; insert: string };
const editArb: fc.Arbitrary<Edit> = fc.record({ at: fc.nat(), del: fc.nat({ max: 30 }), insert: fc.oneof(fc.constantFrom(...tokens), fc.string({ maxLength: 10 })) });

function applyEdits(src: string, edits: readonly Edit[]): string {
  let s = src;
  for (const e of edits) {
    const at = e.at % (s.length + 1);
    s = s.slice(0, at) + e.insert + s.slice(at + e.del);
  }
  return s;
}

function assertUserError(e: unknown, input: string): void {
  assert.ok(e instanceof YurtError, `threw ${String(e)} (not a YurtError) for:\n${input}`);
  assert.notEqual(e.code, 'internal', `internal error "${e.message}" for:\n${input}`);
}

let fileNo = 0;

void test('config files: mutated HCL and JSON load or fail with a user error', async () => {
  const hcl = fc.tuple(fc.constantFrom(...hclSeeds), fc.array(editArb, { minLength: 1, maxLength: 5 })).map(([s, e]) => ({ ext: 'hcl', text: applyEdits(s, e) }));
  const json = fc.tuple(fc.constantFrom(...jsonSeeds), fc.array(editArb, { minLength: 1, maxLength: 5 })).map(([s, e]) => ({ ext: 'json', text: applyEdits(s, e) }));
  const jsonValues = fc.jsonValue({ maxDepth: 4 }).map((v) => ({ ext: 'json', text: JSON.stringify(v) }));
  await fc.assert(
    fc.asyncProperty(fc.oneof(hcl, json, jsonValues), async ({ ext, text }) => {
      const file = join(dir, `c${fileNo++}.${ext}`);
      writeFileSync(file, text);
      try {
        await loadConfigFiles([file]);
      } catch (e) {
        assertUserError(e, `${file}:\n${text}`);
      }
    }),
    { seed: SEED, numRuns: 400 },
  );
});

const flagNames = ['dev', 'server', 'client', 'bootstrap-expect', 'data-dir', 'servers', 'retry-join', 'node-class', 'node-pool', 'meta', 'region', 'dc', 'bind', 'http-port', 'rpc-port', 'name', 'log-level', 'log-json', 'config', 'nope'];

void test('agent flags: any combination resolves or fails with a user error', async () => {
  const value = fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('', '-1', '0', '65536', '3', 'a=b', '=', 'x=', '127.0.0.1:99999', '[::1]:4647', 'debug', dir, join(dir, 'missing')));
  const arg = fc.oneof(
    fc.tuple(fc.constantFrom(...flagNames), value).map(([n, v]) => [`-${n}=${v}`]),
    fc.tuple(fc.constantFrom(...flagNames), value).map(([n, v]) => [`-${n}`, v]),
    fc.constantFrom(...flagNames).map((n) => [`--${n}`]),
    fc.string({ maxLength: 8 }).map((s) => [s]),
  );
  await fc.assert(
    fc.asyncProperty(fc.array(arg, { maxLength: 6 }), async (args) => {
      const argv = args.flat();
      try {
        await resolveAgentConfig(argv, { tmpDir: () => dir, hostname: 'fuzz', cpuCount: 2, privateIp: () => '10.0.0.1' });
      } catch (e) {
        assertUserError(e, JSON.stringify(argv));
      }
    }),
    { seed: SEED, numRuns: 400 },
  );
});
