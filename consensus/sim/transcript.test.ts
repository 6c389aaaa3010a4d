/**
 * Replays the transcripts in consensus/testdata/transcripts/. Each must reproduce its output
 * exactly. After a deliberate behaviour change, `RAFT_TRANSCRIPT_REWRITE=1 npm test --
 * consensus/sim/transcript` rewrites the expectations; read the diff before keeping it.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { formatTranscript, parseTranscript, TranscriptRunner } from './transcript.js';

const dir = join(import.meta.dirname, '..', 'testdata', 'transcripts');
const rewrite = process.env['RAFT_TRANSCRIPT_REWRITE'] === '1';

void describe('transcripts', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.txt'));
  void it('there are transcripts to run', () => assert.ok(files.length >= 5));
  for (const file of files) {
    void it(file, () => {
      const path = join(dir, file);
      const text = readFileSync(path, 'utf8');
      const header = text.slice(0, text.search(/^[^#\n]/m));
      const runner = new TranscriptRunner();
      const results = parseTranscript(text).map((c) => ({ ...c, actual: runner.run(c.command) }));
      if (rewrite) {
        writeFileSync(path, formatTranscript(header, results));
        return;
      }
      for (const r of results) assert.equal(r.actual, r.expected, `${file}:${r.line}: ${r.command}`);
    });
  }
});
