import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseDurationMs } from './duration.js';

void describe('parseDurationMs', () => {
  void it('reads Go durations into milliseconds', () => {
    const cases: [string, number][] = [
      ['0', 0],
      ['10s', 10_000],
      ['1m30s', 90_000],
      ['1.5h', 5_400_000],
      ['500ms', 500],
      ['250us', 0.25],
      ['250µs', 0.25],
      ['1000000ns', 1],
      ['.5s', 500],
      ['-2m', -120_000],
      ['+1h1m1s', 3_661_000],
    ];
    for (const [s, ms] of cases) assert.equal(parseDurationMs(s), ms, s);
  });

  void it('rejects what Go rejects', () => {
    for (const s of ['', '10', 's', '1d', '1 s', '10S', '1.2.3s', '-', 'h1', '1s ']) assert.equal(parseDurationMs(s), undefined, JSON.stringify(s));
  });
});
