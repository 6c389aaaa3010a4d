/**
 * `alloc exec` over Nomad's websocket API (`GET /v1/client/allocation/:id/exec`): sends
 * stdin as base64 `stdin` frames, writes `stdout`/`stderr` frames to the given streams and
 * resolves with the command's exit code from the final `exited` frame. With `tty` the command
 * runs on a terminal: `tty_size` frames carry the user's terminal size, at once and on every
 * change, and everything it prints comes as stdout.
 */
import type { Readable, Writable } from 'node:stream';
import WebSocket, { type RawData } from 'ws';
import { YurtError } from '../structs/errors.js';
import { ERROR_CODE_HEADER, errorFromResponse, transportError } from './http-error.js';
import type { HttpApi } from './http.js';

export interface ExecStreams {
  /** null: the command's stdin is closed at once (`-i=false`). */
  stdin: Readable | null;
  stdout: Writable;
  stderr: Writable;
}

/** TLS for an https:// agent: the websocket is its own connection, not the API client's fetch. */
export interface ExecTls {
  ca?: string | Buffer;
  cert?: string | Buffer;
  key?: string | Buffer;
  servername?: string;
  rejectUnauthorized?: boolean;
}

/** The user's terminal, for a session with a TTY. */
export interface ExecTerminal {
  rows: number;
  cols: number;
  /** Subscribes to size changes; returns the unsubscribe. */
  onResize?(listener: (rows: number, cols: number) => void): () => void;
}

export interface ExecCallOptions {
  task?: string;
  signal?: AbortSignal;
  tls?: ExecTls;
  tty?: ExecTerminal;
}

/** Run `command` in the allocation's task; resolves with its exit code. */
export function execInAlloc(http: HttpApi, allocId: string, command: string[], streams: ExecStreams, opts: ExecCallOptions = {}): Promise<number> {
  const query: [string, string][] = [['command', JSON.stringify(command)], ['tty', opts.tty !== undefined ? 'true' : 'false']];
  if (opts.task !== undefined && opts.task !== '') query.push(['task', opts.task]);
  const httpUrl = http.url(`/v1/client/allocation/${encodeURIComponent(allocId)}/exec`, undefined, query);
  const url = httpUrl.replace(/^http(s?):/, 'ws$1:');
  const headers: Record<string, string> = {};
  const token = http.config.token;
  if (token !== undefined && token !== '') headers['X-Nomad-Token'] = token;
  return new Promise<number>((resolve, reject) => {
    const ws = new WebSocket(url, { headers, ...(url.startsWith('wss:') ? opts.tls : {}) });
    let settled = false;
    let stopResizes: () => void = () => undefined;
    const done = (fn: () => void) => {
      if (settled) return;
      settled = true;
      stopResizes();
      opts.signal?.removeEventListener('abort', onAbort);
      streams.stdin?.removeListener('data', onData).removeListener('end', onEnd);
      fn();
    };
    const onAbort = () => {
      ws.terminate();
      done(() => reject(new YurtError('unavailable', 'alloc exec cancelled')));
    };
    opts.signal?.addEventListener('abort', onAbort);
    const send = (frame: unknown) => {
      if (ws.readyState === WebSocket.OPEN) ws.send(JSON.stringify(frame));
    };
    const onData = (chunk: Buffer | string) => send({ stdin: { data: Buffer.from(chunk).toString('base64') } });
    const onEnd = () => send({ stdin: { close: true } });
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (c: string) => (body += c)).on('end', () => {
        const code = res.headers[ERROR_CODE_HEADER.toLowerCase()];
        done(() => reject(errorFromResponse(res.statusCode ?? 500, typeof code === 'string' ? code : null, body)));
      });
    });
    ws.on('error', (err) => done(() => reject(transportError('GET', httpUrl, err))));
    ws.on('open', () => {
      const tty = opts.tty;
      if (tty !== undefined) {
        send({ tty_size: { height: tty.rows, width: tty.cols } });
        stopResizes = tty.onResize?.((rows, cols) => send({ tty_size: { height: rows, width: cols } })) ?? stopResizes;
      }
      if (streams.stdin === null) {
        onEnd();
        return;
      }
      streams.stdin.on('data', onData).on('end', onEnd);
    });
    ws.on('message', (data: RawData) => {
      let frame: ExecFrame;
      try {
        frame = JSON.parse(Buffer.isBuffer(data) ? data.toString('utf8') : Buffer.concat(Array.isArray(data) ? data : [Buffer.from(data)]).toString('utf8')) as ExecFrame;
      } catch {
        return;
      }
      if (typeof frame.stdout?.data === 'string') streams.stdout.write(Buffer.from(frame.stdout.data, 'base64'));
      if (typeof frame.stderr?.data === 'string') streams.stderr.write(Buffer.from(frame.stderr.data, 'base64'));
      if (frame.exited === true) {
        const code = frame.result?.exit_code;
        done(() => resolve(typeof code === 'number' ? code : 0));
        ws.close(1000);
      }
    });
    ws.on('close', (code, reason) => {
      const why = reason.toString('utf8');
      // 1011: the agent could not run the command and says why in the reason.
      if (code === 1011 && why !== '') done(() => reject(new YurtError('internal', why)));
      else done(() => reject(new YurtError('unavailable', `exec session closed before the command exited (${code}${why !== '' ? `: ${why}` : ''})`)));
    });
  });
}

interface ExecFrame {
  stdout?: { data?: unknown };
  stderr?: { data?: unknown };
  exited?: unknown;
  result?: { exit_code?: unknown };
}
