/**
 * The agent's logger: pino, writing JSON lines with -log-json, or Nomad-style readable lines
 * (`2026-11-22T10:00:00.000Z [INFO]  client: node registered: server=127.0.0.1:4647`).
 */
import { Writable } from 'node:stream';
import pino, { type Logger } from 'pino';

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
/** Keys pino adds itself, or that the readable format shows elsewhere. */
const HIDDEN = new Set(['level', 'time', 'msg', 'pid', 'hostname', 'component']);

export function formatLogLine(rec: Record<string, unknown>): string {
  const level = LEVELS[rec['level'] as number] ?? 'INFO';
  const time = new Date(typeof rec['time'] === 'number' ? rec['time'] : Date.now()).toISOString();
  const comp = typeof rec['component'] === 'string' ? `${rec['component']}: ` : '';
  const fields = Object.entries(rec)
    .filter(([k]) => !HIDDEN.has(k))
    .map(([k, v]) => {
      if (k === 'err' && typeof v === 'object' && v !== null) {
        const m = (v as { message?: unknown }).message;
        return `error=${JSON.stringify(typeof m === 'string' ? m : '')}`;
      }
      return `${k}=${typeof v === 'string' ? (/[\s"]/.test(v) ? JSON.stringify(v) : v) : JSON.stringify(v)}`;
    });
  const msg = typeof rec['msg'] === 'string' ? rec['msg'] : '';
  return `${time} [${level}]${' '.repeat(Math.max(1, 6 - level.length))}${comp}${msg}${fields.length > 0 ? `: ${fields.join(' ')}` : ''}\n`;
}

export function createLogger(opts: { level: string; json: boolean; destination?: NodeJS.WritableStream }): Logger {
  const level = opts.level.toLowerCase() === 'warn' ? 'warn' : opts.level.toLowerCase();
  const out = opts.destination ?? process.stderr;
  if (opts.json) return pino({ level, base: undefined }, pino.destination({ fd: out === process.stdout ? 1 : 2, sync: false }));
  const readable = new Writable({
    write(chunk: Buffer, _enc, cb): void {
      for (const line of chunk.toString('utf8').split('\n')) {
        if (line === '') continue;
        try {
          out.write(formatLogLine(JSON.parse(line) as Record<string, unknown>));
        } catch {
          out.write(`${line}\n`);
        }
      }
      cb();
    },
  });
  return pino({ level, base: undefined, serializers: { err: pino.stdSerializers.err } }, readable);
}
