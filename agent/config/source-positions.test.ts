import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { indexHclPositions, indexJsonPositions, positionOfOffset } from './source-positions.js';

void describe('indexHclPositions', () => {
  const text = [
    '# comment with { braces } and "quotes"',
    'name = "a } b" // trailing',
    '/* block',
    '   comment = 1 */',
    'meta = {',
    '  x = "${upper("}")}"',
    '}',
    'script = <<-EOT',
    '  server {',
    '  EOT',
    'server { enabled = true }',
    'server {',
    '  server_join {',
    '    retry_join = [',
    '      "a",',
    '    ]',
    '  }',
    '}',
    'client {',
    '  host_volume "data" {',
    '    path = "/x"',
    '  }',
    '  host_volume "data" {',
    '    read_only = true',
    '  }',
    '}',
  ].join('\n');
  const index = indexHclPositions(text);

  void it('finds attributes past comments, strings, templates and heredocs', () => {
    assert.deepEqual(index.find(['name']), { line: 2, column: 1 });
    assert.deepEqual(index.find(['meta']), { line: 5, column: 1 });
    assert.deepEqual(index.find(['script']), { line: 8, column: 1 });
    // "comment" inside /* */ and "server" inside the heredoc are not keys.
    assert.equal(index.find(['comment']), undefined);
  });

  void it('numbers repeated blocks as hcl2json does, including one-line blocks', () => {
    assert.deepEqual(index.find(['server']), { line: 11, column: 1 });
    assert.deepEqual(index.find(['server', 0, 'enabled']), { line: 11, column: 10 });
    assert.deepEqual(index.find(['server', 1]), { line: 12, column: 1 });
    assert.deepEqual(index.find(['server', 1, 'server_join', 0, 'retry_join']), { line: 14, column: 5 });
  });

  void it('indexes labeled blocks by label and occurrence', () => {
    assert.deepEqual(index.find(['client', 0, 'host_volume', 'data', 0, 'path']), { line: 21, column: 5 });
    assert.deepEqual(index.find(['client', 0, 'host_volume', 'data', 1, 'read_only']), { line: 24, column: 5 });
  });

  void it('falls back to the nearest indexed ancestor', () => {
    assert.deepEqual(index.find(['server', 1, 'server_join', 0, 'retry_join', 3]), { line: 14, column: 5 });
    assert.deepEqual(index.find(['meta', 'x']), { line: 5, column: 1 });
    assert.deepEqual(index.find(['client', 0, 'nope']), { line: 19, column: 1 });
  });
});

void describe('indexJsonPositions', () => {
  const text = '{\n  "a": {"b\\"c": [1, {"d": "}"}]},\n  "e": true\n}';
  const index = indexJsonPositions(text);

  void it('indexes keys and array items', () => {
    assert.deepEqual(index.find(['a']), { line: 2, column: 3 });
    assert.deepEqual(index.find(['a', 'b"c']), { line: 2, column: 9 });
    assert.deepEqual(index.find(['a', 'b"c', 1]), { line: 2, column: 21 });
    assert.deepEqual(index.find(['a', 'b"c', 1, 'd']), { line: 2, column: 22 });
    assert.deepEqual(index.find(['e']), { line: 3, column: 3 });
  });

  void it('converts offsets to line and column', () => {
    assert.deepEqual(positionOfOffset('ab\ncd', 0), { line: 1, column: 1 });
    assert.deepEqual(positionOfOffset('ab\ncd', 4), { line: 2, column: 2 });
  });
});
