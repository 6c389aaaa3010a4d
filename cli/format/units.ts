/** Sizes as Nomad prints them (go-humanize's IBytes): "256 MiB", "7.7 GiB". */

const UNITS = ['B', 'KiB', 'MiB', 'GiB', 'TiB', 'PiB', 'EiB'];

export function humanizeIBytes(bytes: number): string {
  if (bytes < 10) return `${bytes} B`;
  const e = Math.min(Math.floor(Math.log(bytes) / Math.log(1024)), UNITS.length - 1);
  const v = bytes / 1024 ** e;
  // go-humanize keeps one decimal below 10 and none above.
  const text = v < 10 ? (Math.floor(v * 10 + 0.5) / 10).toFixed(1) : Math.floor(v + 0.5).toFixed(0);
  return `${text} ${UNITS[e] ?? 'B'}`;
}

export function mbToBytes(mb: number): number {
  return mb * 1024 * 1024;
}
