/** The summary table printed at the end of a run. */
export interface Outcome {
  id: number;
  title: string;
  status: 'PASS' | 'FAIL';
  seconds: number;
  /** First line of the failure. */
  reason?: string;
}

export function summaryTable(outcomes: readonly Outcome[], setupSeconds: number, totalSeconds: number): string {
  const rows = outcomes.map((o) => [String(o.id), o.status, `${o.seconds.toFixed(1)}s`, o.title, o.reason ?? '']);
  const head = ['#', 'result', 'time', 'scenario', 'failure'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => Math.min(r[i]!.length, i === 4 ? 90 : 200))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === 4 && c.length > 90 ? `${c.slice(0, 89)}…` : c).padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  const passed = outcomes.filter((o) => o.status === 'PASS').length;
  return [
    line(head),
    line(widths.map((w) => '-'.repeat(w))),
    ...rows.map(line),
    '',
    `${passed}/${outcomes.length} passed; cluster setup ${setupSeconds.toFixed(1)}s; total ${totalSeconds.toFixed(1)}s`,
  ].join('\n');
}
