/**
 * `yurt alloc exec [-task t] [-i=true] [-t=false] <alloc> <command> [args...]`: run a command
 * in a running task's environment with its stdio streamed, as Nomad's `alloc exec`. The
 * command's exit code becomes this CLI's exit code; `-job` picks one of a job's running
 * allocations at random. `-t` (the default when stdin is a terminal) runs the command on a
 * terminal of the user's size, with keys sent as typed.
 */
import { Writable } from 'node:stream';
import { defineFlags, parseFlags } from '../../structs/flags.js';
import type { ApiClient } from '../../api/client.js';
import type { ExecTerminal } from '../../api/alloc-exec.js';
import type { AllocListStub } from '../../structs/alloc.js';
import type { Command } from '../command.js';
import { apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { resolveApiTls, tlsSocketOptions } from '../api-tls.js';
import type { CliIo } from '../io.js';
import { allocLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { UsageError } from '../usage.js';
import { EscapeFilter, escapeByte } from '../escape-sequence.js';
import { YurtError } from '../../structs/errors.js';

const flags = defineFlags({
  task: { type: 'string', placeholder: 'task-name', help: 'Sets the task to exec command in. Required when the allocation has more than one task.' },
  i: { type: 'bool', default: true, help: 'Pass stdin to the container, defaults to true.' },
  t: { type: 'bool', help: 'Allocate a pseudo-tty, defaults to true if stdin is detected to be a tty session.' },
  job: { type: 'bool', help: 'Use a random running allocation from the specified job ID.' },
  e: {
    type: 'string',
    default: '~',
    placeholder: 'escape-char',
    help: 'The escape character of sessions on a terminal. At the start of a line, the escape character followed by a dot (.) closes the session, and typed twice it sends itself. "none" turns escapes off.',
  },
  verbose: { type: 'bool', help: 'Show full information.' },
});

export const allocExecCommand: Command = {
  path: ['alloc', 'exec'],
  synopsis: 'Execute commands in task',
  help: commandHelp({
    usage: 'yurt alloc exec [options] <allocation | -job job-id> <command> [<args>...]',
    description: `Run command inside the environment of the given allocation and task.
Its stdout and stderr are streamed back, stdin is forwarded (-i=false turns
that off) and its exit code becomes this command's exit code.

    $ yurt alloc exec -task web 5c8d /bin/sh -c 'cat /local/config'`,
    general: true,
    optionsTitle: 'Exec Specific Options',
    flags,
  }),
  async run(io, argv) {
    // Flags stop at the allocation id: what follows is the command and its own flags.
    const spec = { ...generalFlags, ...flags };
    let parsed;
    try {
      parsed = parseFlags(argv, spec, { interspersed: false });
    } catch (err) {
      if (err instanceof YurtError && err.code === 'invalid_argument') throw new UsageError(err.message);
      throw err;
    }
    const { flags: f, args, set } = parsed;
    if (args.length < 2) throw new UsageError('This command takes at least two arguments: <allocation> <command> [<args>...]');
    const tty = set.has('t') ? f.t : io.stdinIsTTY === true;
    let escape: number | null;
    try {
      escape = escapeByte(f.e);
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const client = apiClient(io, f);
    const stub = f.job ? await randomRunningAlloc(io, client, args[0] ?? '') : await resolvePrefix(io, args[0] ?? '', allocLookup(client, { verbose: f.verbose, nowMs: io.now() }));
    if (typeof stub === 'number') return stub;
    const stdin = f.i && io.stdinStream !== undefined ? io.stdinStream : null;
    // On a terminal, keys go to the remote program as typed (Ctrl-C included) until it exits;
    // the escape sequence is the way out of a session whose program does not.
    const restore = tty && stdin !== null ? (io.terminal?.raw() ?? (() => undefined)) : () => undefined;
    const escaped = new AbortController();
    const input = tty && stdin !== null && escape !== null ? stdin.pipe(new EscapeFilter(escape, () => escaped.abort())) : stdin;
    try {
      const code = await client.allocations.exec(
        stub.ID,
        args.slice(1),
        { stdin: input, stdout: rawWriter(io.writeRaw), stderr: rawWriter(io.writeRawErr ?? errLines(io)) },
        {
          ...(f.task !== undefined ? { task: f.task } : {}),
          signal: AbortSignal.any([io.signal, escaped.signal]),
          tls: tlsSocketOptions(resolveApiTls(f, io.env)),
          ...(tty ? { tty: terminalOf(io) } : {}),
        },
      );
      // Stop reading stdin so the process can exit when the command did not read all of it.
      stdin?.pause();
      return code;
    } catch (err) {
      stdin?.pause();
      if (escaped.signal.aborted) {
        io.err(`Session to allocation ${stub.ID.slice(0, 8)} closed (escape sequence)`);
        return 1;
      }
      if (err instanceof YurtError && io.signal.aborted) return 130;
      return reportError(io, 'failed to exec into task', err);
    } finally {
      restore();
    }
  },
};

/** The user's terminal, or a 24x80 one where the CLI runs without (`-t` with piped output). */
function terminalOf(io: CliIo): ExecTerminal {
  const t = io.terminal;
  if (t === undefined) return { rows: 24, cols: 80 };
  return { ...t.size(), onResize: (l) => t.onResize(l) };
}

/** Nomad's `-job`: any one of the job's running allocations, picked at random. */
async function randomRunningAlloc(io: CliIo, client: ApiClient, jobId: string): Promise<{ ID: string } | number> {
  let allocs: AllocListStub[];
  try {
    allocs = (await client.jobs.allocations(jobId)).data ?? [];
  } catch (err) {
    if (!(err instanceof YurtError && err.code === 'not_found')) return reportError(io, `Error querying job "${jobId}"`, err);
    allocs = [];
  }
  if (allocs.length === 0) {
    io.err(`job "${jobId}" doesn't exist or it has no allocations`);
    return 1;
  }
  const running = allocs.filter((a) => a.ClientStatus === 'running');
  if (running.length === 0) {
    io.err(`job "${jobId}" has no running allocations`);
    return 1;
  }
  return running[Math.floor(Math.random() * running.length)]!;
}

function rawWriter(write: (chunk: Uint8Array | string) => Promise<void>): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      write(chunk).then(() => cb(), cb);
    },
  });
}

/** Where the io has no raw stderr (in-process tests), whole text through `err`. */
function errLines(io: CliIo): (chunk: Uint8Array | string) => Promise<void> {
  return async (chunk) => io.err(Buffer.from(chunk).toString('utf8').replace(/\n$/, ''));
}
