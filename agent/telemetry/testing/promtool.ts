/**
 * Test support: run an exposition through the real Prometheus parser and linter
 * (`promtool check metrics`, Debian's prometheus package).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

export function havePromtool(): boolean {
  return spawnSync('sh', ['-c', 'command -v promtool']).status === 0;
}

/**
 * `promtool check metrics` exits 1 when the exposition does not parse and 3 on lint problems.
 * One lint is accepted on purpose: Nomad's `job_summary` gauges keep their name (dashboards and
 * alerts depend on it), which trips the check for names containing a metric type ('summary').
 */
export function assertPromtoolClean(text: string): void {
  const r = spawnSync('promtool', ['check', 'metrics'], { input: text, encoding: 'utf8' });
  const out = `${r.stdout}${r.stderr}`;
  if (r.status === 0) return;
  assert.equal(r.status, 3, `promtool could not parse the exposition:\n${out}`);
  const problems = out
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !/^yurt_nomad_job_summary_[a-z]+ metric name should not include type 'summary'$/.test(l));
  assert.deepEqual(problems, [], out);
}
