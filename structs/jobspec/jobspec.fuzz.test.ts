/**
 * Fuzzing the job file parsers with fast-check (fixed seeds, bounded runs): whatever the
 * text or JSON, parsing gives a Job or a YurtError a user can act on — never another kind
 * of exception, never an `internal` error (those mean a bug here), never a hang.
 *
 * Inputs are mostly near-misses of real job files (the `job init` example and the test
 * files, with bytes spliced, dropped or duplicated; API JSON with fields swapped for
 * arbitrary values), because purely random text rarely gets past the first token.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { YurtError } from '../errors.js';
import { EXAMPLE_JOB, EXAMPLE_JOB_SHORT, jobToApiJSON, parseJobHCL, parseJobJSON } from './index.js';
import { mutateAt } from '../testing/mutate-at.js';

const SEED = 20261122;

const testdata = (name: string): string => readFileSync(new URL(`./testdata/${name}`, import.meta.url), 'utf8');
const hclSeeds = [EXAMPLE_JOB, EXAMPLE_JOB_SHORT, testdata('full.hcl'), testdata('periodic.hcl'), testdata('dispatch.hcl')];

/** Pieces of HCL syntax worth splicing in: they open and close constructs the parser must track. */
const hclTokens = ['{', '}', '[', ']', '"', '${', '%{', '}}', '=', ',', '\n', '#', '//', '/*', '*/', '<<EOF\n', '\nEOF\n', '<<-X\n', '\\', '\0', '\u2028', 'job', 'group "g" {', 'task "t" {', 'count = -1', 'count = 1e400', 'var.', 'local.', '${var.nope}', 'null', 'true', '"\\u0000"', '0x', '1.5', '"…"', '🙂', 'dynamic "x" {', 'for x in y :', '\nconstructor = 1\n', '\n__proto__ = "x"\n', '\nmeta {\n  toString = "x"\n}\n', '\nenv {\n  hasOwnProperty = "1"\n}\n'];

type Edit = { at: number; del: number; insert: string };

const editArb: fc.Arbitrary<Edit> = fc.record({
  at: fc.nat(),
  del: fc.nat({ max: 40 }),
  insert: fc.oneof(fc.constantFrom(...hclTokens), fc.string({ maxLength: 12 }), fc.string({ unit: 'binary', maxLength: 8 })),
});

function applyEdits(src: string, edits: readonly Edit[]): string {
  let s = src;
  for (const e of edits) {
    const at = e.at % (s.length + 1);
    s = s.slice(0, at) + e.insert + s.slice(at + e.del);
  }
  return s;
}

/** Names Object.prototype has: a parser that looks fields up with `in` finds them there. */
const prototypeNames = ['__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'isPrototypeOf'];

function assertUserError(e: unknown, input: string): void {
  assert.ok(e instanceof YurtError, `threw ${String(e)} (not a YurtError) for:\n${input}`);
  assert.notEqual(e.code, 'internal', `internal error "${e.message}" for:\n${input}`);
  assert.ok(e.message.length > 0);
}

void test('HCL job files: spliced, truncated and random text parses or fails with a user error', async () => {
  const mutated = fc.tuple(fc.constantFrom(...hclSeeds), fc.array(editArb, { minLength: 1, maxLength: 6 })).map(([src, edits]) => applyEdits(src, edits));
  const truncated = fc.tuple(fc.constantFrom(...hclSeeds), fc.nat()).map(([src, n]) => src.slice(0, n % (src.length + 1)));
  const random = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'grapheme', maxLength: 100 }), fc.array(fc.constantFrom(...hclTokens), { maxLength: 30 }).map((t) => t.join(' ')));
  await fc.assert(
    fc.asyncProperty(fc.oneof({ weight: 6, arbitrary: mutated }, { weight: 2, arbitrary: truncated }, { weight: 2, arbitrary: random }), async (src) => {
      try {
        const job = await parseJobHCL(src, { filename: 'fuzz.hcl' });
        assert.equal(typeof job.ID, 'string');
      } catch (e) {
        assertUserError(e, src);
      }
    }),
    { seed: SEED, numRuns: 400 },
  );
});

void test('HCL job files: variables given on the command line with odd names and values', async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.dictionary(fc.oneof(fc.constant('greeting'), fc.string({ maxLength: 10 })), fc.string({ maxLength: 20 }), { maxKeys: 4 }),
      fc.array(fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom('greeting = 1', 'greeting = ["a"]', 'greeting = {', 'nope = "x"')), { maxLength: 2 }),
      fc.dictionary(fc.string({ maxLength: 10 }).map((k) => `NOMAD_VAR_${k}`), fc.string({ maxLength: 10 }), { maxKeys: 2 }),
      async (vars, files, env) => {
        const varFiles = files.map((content, i) => ({ filename: `v${i}.hcl`, content }));
        try {
          await parseJobHCL(EXAMPLE_JOB, { filename: 'fuzz.hcl', vars, varFiles, env });
        } catch (e) {
          assertUserError(e, JSON.stringify({ vars, varFiles, env }));
        }
      },
    ),
    { seed: SEED, numRuns: 150 },
  );
});

void test('API JSON jobs: any field swapped for any value is accepted or refused with a user error', async () => {
  const base = jobToApiJSON(await parseJobHCL(testdata('full.hcl'), { filename: 'full.hcl' }));
  const nomadApi = JSON.parse(testdata('nomad-api.json')) as unknown;
  const odd = fc.oneof(
    fc.anything({ maxDepth: 3, withNullPrototype: true, withBigInt: false, withMap: false, withSet: false, withTypedArray: false }),
    fc.constantFrom(-1, 0, 1e308, -1e308, Number.NaN, Number.MAX_SAFE_INTEGER + 2, '', '\0', '../../etc', [], {}, null, true, '5m', 'PT5M', '${var.x}'),
    fc.jsonValue({ maxDepth: 3 }),
  );
  const newKey = fc.option(fc.oneof(fc.constantFrom(...prototypeNames, 'Job', 'ID', 'TaskGroups', 'Tasks', 'Resources', 'Meta'), fc.string({ maxLength: 8 })), { nil: undefined, freq: 3 });
  const mutation = fc.array(fc.tuple(fc.array(fc.nat(), { maxLength: 7 }), odd, newKey), { minLength: 1, maxLength: 4 });
  fc.assert(
    fc.property(fc.constantFrom<unknown>(base, nomadApi), mutation, fc.boolean(), (doc, muts, asText) => {
      let body = doc;
      for (const [path, v, key] of muts) body = mutateAt(body, path, v, key);
      let input: unknown = body;
      if (asText) {
        try {
          input = JSON.stringify(body);
        } catch {
          input = body; // a value JSON cannot express (a cycle-free but odd prototype): pass as is
        }
      }
      try {
        parseJobJSON(input);
      } catch (e) {
        assertUserError(e, typeof input === 'string' ? input : String(JSON.stringify(input)));
      }
    }),
    { seed: SEED, numRuns: 1500 },
  );
});

void test('API JSON jobs: random text and values never escape as a non-YurtError', () => {
  fc.assert(
    fc.property(fc.oneof(fc.string({ maxLength: 80 }), fc.jsonValue({ maxDepth: 4 }), fc.json({ maxDepth: 4 })), (input) => {
      try {
        parseJobJSON(input);
      } catch (e) {
        assertUserError(e, JSON.stringify(input));
      }
    }),
    { seed: SEED, numRuns: 1500 },
  );
});
