/**
 * Column alignment as Nomad prints it (it uses ryanuber/columnize): cells trimmed, empty
 * cells shown as `<none>` so the output stays awk-able, columns joined by two spaces, the
 * last column never padded (no trailing blanks). Key/value blocks use ` = ` as the glue.
 */

export const EMPTY_CELL = '<none>';

export type Row = ReadonlyArray<string | number | boolean>;

function cells(row: Row, empty: string): string[] {
  return row.map((c) => {
    const s = String(c).trim();
    return s === '' ? empty : s;
  });
}

function render(rows: readonly Row[], glue: string, empty: string): string {
  const grid = rows.map((r) => cells(r, empty));
  const widths: number[] = [];
  for (const r of grid) {
    r.forEach((c, i) => {
      widths[i] = Math.max(widths[i] ?? 0, c.length);
    });
  }
  return grid
    .map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i] ?? 0) + glue)).join(''))
    .join('\n');
}

/** A table: the first row is the header. */
export function formatList(rows: readonly Row[], opts: { empty?: string } = {}): string {
  return render(rows, '  ', opts.empty ?? EMPTY_CELL);
}

/** Aligned `Key = Value` lines. */
export function formatKV(pairs: ReadonlyArray<readonly [string, string | number | boolean]>): string {
  return render(pairs, ' = ', EMPTY_CELL);
}

/** Nomad prints IDs cut to 8 characters unless -verbose. */
export const SHORT_ID = 8;
export const FULL_ID = 36;

export function limit(s: string, length: number): string {
  return s.length <= length ? s : s.slice(0, length);
}
