/** `yurt alloc logs <alloc> [task]`: a task's stdout or stderr, optionally followed. */
import type { LogOptions } from '../../api/logs.js';
import { isAbortError } from '../../api/http-error.js';
import type { Allocation } from '../../structs/alloc.js';
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_ERROR, EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import type { CliIo } from '../io.js';
import { BYTES_PER_LINE, DEFAULT_TAIL_LINES, concatChunks, lastLines } from '../log-tail.js';
import { allocLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs, UsageError } from '../usage.js';

const flags = defineFlags({
  stderr: { type: 'bool', help: 'Display stderr logs.' },
  f: { type: 'bool', help: 'Causes the output to not stop, and instead wait for new output.' },
  tail: { type: 'bool', help: 'Show the logs contents with offsets relative to the end of the logs. If no offset is given, -n is defaulted to 10.' },
  n: { type: 'int', placeholder: 'lines', help: 'Sets the tail location in best-efforted number of lines relative to the end of the logs. Implies -tail.' },
  verbose: { type: 'bool', help: 'Show full IDs in messages.' },
});

/** While following with -tail, output settles this long before the tail is cut and shown. */
const TAIL_SETTLE_MS = 250;

/** The task to read: the one named, or the group's only task. */
export function pickTask(alloc: Allocation, named: string | undefined): { task: string } | { error: string } {
  const group = alloc.Job?.TaskGroups?.find((g) => g.Name === alloc.TaskGroup);
  const tasks = group?.Tasks.map((t) => t.Name) ?? Object.keys(alloc.TaskStates ?? {});
  if (named !== undefined) {
    return tasks.includes(named) ? { task: named } : { error: `Could not find task named: ${named}` };
  }
  if (tasks.length === 1 && tasks[0] !== undefined) return { task: tasks[0] };
  const list = tasks.sort().map((t) => `  * ${t}`).join('\n');
  return { error: `Allocation "${alloc.ID.slice(0, 8)}" is running the following tasks:\n${list}\n\nPlease specify the task.` };
}

async function streamTail(io: CliIo, chunks: AsyncGenerator<Uint8Array>, n: number, follow: boolean): Promise<void> {
  const held: Uint8Array[] = [];
  if (!follow) {
    for await (const c of chunks) held.push(c);
    await io.writeRaw(lastLines(concatChunks(held), n));
    return;
  }
  // Following: take what is there now (until output pauses), cut it to n lines, then stream.
  let pending = chunks.next();
  for (;;) {
    let timer: NodeJS.Timeout | undefined;
    const settled = new Promise<'settled'>((resolve) => {
      timer = setTimeout(() => resolve('settled'), TAIL_SETTLE_MS);
    });
    const r = await Promise.race([pending, settled]);
    clearTimeout(timer);
    if (r === 'settled') break;
    if (r.done === true) {
      await io.writeRaw(lastLines(concatChunks(held), n));
      return;
    }
    held.push(r.value);
    pending = chunks.next();
  }
  await io.writeRaw(lastLines(concatChunks(held), n));
  for (let r = await pending; r.done !== true; r = await chunks.next()) await io.writeRaw(r.value);
}

export const allocLogsCommand: Command = {
  path: ['alloc', 'logs'],
  synopsis: 'Streams the logs of a task',
  help: commandHelp({
    usage: 'yurt alloc logs [options] <allocation> <task>',
    description: `Streams the stdout/stderr of the given allocation and task. The task may be
left out when the allocation's group has a single task.`,
    general: true,
    optionsTitle: 'Logs Specific Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 1, 2, 'one or two arguments: <allocation> [task]');
    if (f.n !== undefined && f.n < 0) throw new UsageError('-n must be a positive number of lines');
    const client = apiClient(io, f);
    const stub = await resolvePrefix(io, args[0] ?? '', allocLookup(client, { verbose: f.verbose, nowMs: io.now() }));
    if (typeof stub === 'number') return stub;

    let alloc: Allocation;
    try {
      alloc = (await client.allocations.info(stub.ID)).data;
    } catch (err) {
      return reportError(io, 'Error querying allocation', err);
    }
    const picked = pickTask(alloc, args[1]);
    if ('error' in picked) {
      io.err(picked.error);
      return EXIT_ERROR;
    }

    const tail = f.tail || f.n !== undefined;
    const lines = f.n ?? DEFAULT_TAIL_LINES;
    const opts: LogOptions = {
      task: picked.task,
      type: f.stderr ? 'stderr' : 'stdout',
      follow: f.f,
      origin: tail ? 'end' : 'start',
      offset: tail ? lines * BYTES_PER_LINE : 0,
      signal: io.signal,
    };
    try {
      const chunks = client.logs.read(alloc.ID, opts);
      if (tail) await streamTail(io, chunks, lines, f.f);
      else for await (const c of chunks) await io.writeRaw(c);
      return EXIT_OK;
    } catch (err) {
      // Ctrl-C is how one stops following a log; it is not a failure.
      if (isAbortError(err)) return EXIT_OK;
      return reportError(io, 'Error reading file', err);
    }
  },
};
