/**
 * The process a WASI task runs in: `node runner.js`, started by the driver (runner-pool.ts)
 * before any task needs it, with an IPC channel to the driver.
 *
 * While idle it may be told to compile a module ahead of time (`prime`). Then it gets one
 * `run`: it opens the task's log files itself and gives their descriptors to node:wasi, so
 * the module's output goes straight to disk as it is written; it checks the module's
 * imports and exports, answers `started`, and runs `_start` on its main thread. When the
 * module exits or traps it writes the exit record (runner-protocol.ts) and exits.
 *
 * Stopping a task is ending this process with a signal: no JS runs while the module does,
 * and Node installs no handler for SIGTERM or SIGINT, so the kernel ends it at once even in
 * a busy loop. The exception is SIGUSR1, which Node reserves to open its inspector on
 * 127.0.0.1:9229 (a remote-code-execution door); a listener is installed to keep it shut.
 */
import { openSync, readFileSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { performance } from 'node:perf_hooks';
import { WASI } from 'node:wasi';
import { parseProcStat } from '../process/proc-stat.js';
import { WASM_PAGE_BYTES } from './module-memory.js';
import {
  TRAP_EXIT_CODE,
  encodeRecordedExit,
  type FromRunner,
  type RecordedExit,
  type RunSpec,
  type ToRunner,
} from './runner-protocol.js';
import { wasm, type WasmImportDescriptor, type WasmImports, type WasmInstance, type WasmMemory, type WasmModule } from './wasm-api.js';

process.on('SIGUSR1', () => undefined);

/** This process's start time in /proc: with the pid, the task's identity after an agent restart. */
const pidStart = parseProcStat(readFileSync(`/proc/${process.pid}/stat`, 'utf8'))?.starttime ?? 0;

/** The one module a runner keeps compiled (the last `prime`). */
let primed: { hash: string; module: Promise<WasmModule>; ms: Promise<number> } | null = null;
/** Once the module has started, the driver may go away (agent restart) and the task goes on. */
let phase: 'idle' | 'preparing' | 'running' = 'idle';

class RunFailure extends Error {
  constructor(
    message: string,
    readonly fault: 'module' | 'host' = 'module',
  ) {
    super(message);
  }
}

function send(msg: FromRunner, then?: () => void): void {
  if (process.send === undefined || !process.connected) {
    then?.();
    return;
  }
  process.send(msg, undefined, {}, () => then?.());
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

function compile(path: string): { module: Promise<WasmModule>; ms: Promise<number> } {
  const t0 = performance.now();
  const module = (async () => wasm.compile(readFileSync(path)))();
  const ms = module.then(
    () => performance.now() - t0,
    () => 0,
  );
  return { module, ms };
}

function prime(hash: string, path: string): void {
  if (phase !== 'idle') return;
  const entry = { hash, ...compile(path) };
  primed = entry;
  entry.module.then(
    () => send({ type: 'primed', hash }),
    (e: unknown) => send({ type: 'primed', hash, error: message(e) }),
  );
}

type WasiVersion = 'preview1' | 'unstable';

/** Which WASI snapshot the module was built for, from its import namespaces. */
function wasiVersionOf(imports: WasmImportDescriptor[]): WasiVersion {
  const preview1 = imports.some((i) => i.module === 'wasi_snapshot_preview1');
  const unstable = imports.some((i) => i.module === 'wasi_unstable');
  if (preview1 && unstable) throw new RunFailure('the module imports both wasi_snapshot_preview1 and wasi_unstable');
  return unstable ? 'unstable' : 'preview1';
}

interface Prepared {
  wasi: WASI;
  memory: WasmMemory | null;
  /** Null when the module has a start function: it is instantiated only once it may run. */
  instance: WasmInstance | null;
  instantiate: () => WasmInstance;
}

/** Check the module against what WASI provides and set up its instance; throws RunFailure. */
function prepare(spec: RunSpec, module: WasmModule, fds: { stdin: number; stdout: number; stderr: number }): Prepared {
  const imports = wasm.Module.imports(module);
  const kinds = new Map(wasm.Module.exports(module).map((e) => [e.name, e.kind]));
  const version = wasiVersionOf(imports);
  const namespace = version === 'preview1' ? 'wasi_snapshot_preview1' : 'wasi_unstable';
  if (kinds.has('_initialize')) {
    throw new RunFailure('the module is a WASI reactor (it exports _initialize); the wasi driver runs commands, which export _start');
  }
  if (kinds.get('_start') !== 'function') {
    throw new RunFailure('the module exports no _start function; build it as a WASI command (for example clang --target=wasm32-wasi)');
  }
  let wasi: WASI;
  try {
    wasi = new WASI({ version, args: spec.args, env: spec.env, preopens: spec.preopens, ...fds, returnOnExit: true });
  } catch (e) {
    throw new RunFailure(`cannot set up WASI: ${message(e)}`, 'host');
  }
  const importObject = wasi.getImportObject() as WasmImports;
  const wasiFunctions = importObject[namespace] ?? {};
  const missing: string[] = [];
  for (const imp of imports) {
    if (spec.memory !== null && imp.kind === 'memory' && imp.module === spec.memory.module && imp.name === spec.memory.name) continue;
    if (imp.kind === 'function' && imp.module === namespace && imp.name in wasiFunctions) continue;
    missing.push(`${imp.module}.${imp.name} (${imp.kind})`);
  }
  if (missing.length > 0) throw new RunFailure(`the module imports what WASI ${version} does not provide: ${missing.join(', ')}`);
  let memory: WasmMemory | null = null;
  if (spec.memory !== null) {
    memory = new wasm.Memory({ initial: spec.memory.initialPages, maximum: spec.memory.maximumPages });
    importObject[spec.memory.module] = { ...importObject[spec.memory.module], [spec.memory.name]: memory };
  }
  const instantiate = (): WasmInstance => new wasm.Instance(module, importObject);
  let instance: WasmInstance | null = null;
  if (!spec.hasStartFunction) {
    try {
      instance = instantiate();
    } catch (e) {
      throw new RunFailure(`the module cannot be instantiated: ${message(e)}`);
    }
  }
  return { wasi, memory, instance, instantiate };
}

async function run(spec: RunSpec): Promise<void> {
  if (phase !== 'idle') return;
  phase = 'preparing';
  const reuse = primed !== null && primed.hash === spec.hash ? primed : null;
  primed = null;
  const entry = reuse ?? compile(spec.path);
  let prepared: Prepared;
  let stderr = -1;
  try {
    let module: WasmModule;
    try {
      module = await entry.module;
    } catch (e) {
      throw new RunFailure(`the module does not compile: ${message(e)}`);
    }
    let stdin: number, stdout: number;
    try {
      stdin = openSync('/dev/null', 'r');
      stdout = openSync(spec.stdoutPath, 'a', 0o644);
      stderr = openSync(spec.stderrPath, 'a', 0o644);
    } catch (e) {
      throw new RunFailure(`cannot open the task's log files: ${message(e)}`, 'host');
    }
    prepared = prepare(spec, module, { stdin, stdout, stderr });
  } catch (e) {
    const f = e instanceof RunFailure ? e : new RunFailure(message(e), 'host');
    send({ type: 'failed', message: f.message, fault: f.fault }, () => process.exit(1));
    return;
  }
  const compileMs = await entry.ms;
  // `started` goes out before the module runs: once _start is entered this thread is busy
  // until the module ends, and the driver is waiting for this answer.
  const started: FromRunner = { type: 'started', compiledBy: reuse !== null ? 'prime' : 'run', compileMs, pid: process.pid, pidStart };
  send(started, () => {
    phase = 'running';
    execute(spec, prepared, stderr);
  });
}

function execute(spec: RunSpec, prepared: Prepared, stderr: number): void {
  const { wasi, memory } = prepared;
  let record: RecordedExit;
  try {
    const exp = (prepared.instance ?? prepared.instantiate()).exports;
    // node:wasi reads the memory from `exports.memory`; the module's memory is the one
    // passed in as an import (module-memory.ts), and a module without memory gets an empty one.
    const mem = memory ?? (exp['memory'] instanceof wasm.Memory ? exp['memory'] : new wasm.Memory({ initial: 0, maximum: 0 }));
    const exitCode = wasi.start({ exports: { _start: exp['_start'], memory: mem } });
    record = { exitCode, oomKilled: false };
  } catch (e) {
    record = { exitCode: TRAP_EXIT_CODE, oomKilled: false, trap: message(e) };
  }
  const notes: string[] = [];
  if (record.trap !== undefined) notes.push(`the module trapped: ${record.trap}`);
  if (record.exitCode !== 0 && memory !== null && spec.memory?.limitedByTask === true) {
    const used = memory.buffer.byteLength;
    const limit = spec.memory.maximumPages * WASM_PAGE_BYTES;
    // memory.grow reports failure to the module (-1), not to the host, so the sign that the
    // limit ended the module is that it failed with its memory (nearly) at the limit: an
    // allocator asks for the size it needs, which may not fit in the last few pages.
    if (used >= limit * 0.9) {
      record.oomKilled = true;
      const mib = (n: number) => (n / 1048576).toFixed(1);
      notes.push(
        `the module failed with ${mib(used)} MiB of linear memory in use, at its limit of ${mib(limit)} MiB ` +
          `(the task's memory): out of memory`,
      );
    }
  }
  for (const n of notes) {
    try {
      writeSync(stderr, `yurt wasi: ${n}\n`);
    } catch {
      // The log file is gone; the exit record still says what happened.
    }
  }
  const tmp = `${spec.statusPath}.tmp`;
  try {
    writeFileSync(tmp, encodeRecordedExit(record));
    renameSync(tmp, spec.statusPath);
  } catch {
    // Without a record the driver reports the exit code of this process instead.
  }
  process.exit(record.exitCode & 0xff);
}

/**
 * A trial run of the set-up path on a 93-byte module (a WASI command importing proc_exit and
 * its memory) at boot, while nobody waits: the first real start then runs code V8 has
 * already compiled, which saves a few milliseconds of the start latency. What it creates is
 * kept referenced for the life of the process: collecting a WASI object closes the
 * descriptors it was given, and by then their numbers may belong to the task's log files.
 */
const warm: unknown[] = [];
function warmUp(): void {
  const bytes = Buffer.from(
    '0061736d0100000001080260017f0060000002330216776173695f736e617073686f745f70726576696577310970726f635f657869' +
      '7400000479757274066d656d6f727902000103020101070a01065f737461727400010a040102000b',
    'hex',
  );
  try {
    const fds = { stdin: openSync('/dev/null', 'r'), stdout: openSync('/dev/null', 'a'), stderr: openSync('/dev/null', 'a') };
    const spec: RunSpec = {
      hash: '', path: '', args: ['warm-up'], env: {}, preopens: {}, stdoutPath: '', stderrPath: '', statusPath: '',
      memory: { module: 'yurt', name: 'memory', initialPages: 1, maximumPages: 1, limitedByTask: false },
      hasStartFunction: false,
    };
    warm.push(fds, prepare(spec, new wasm.Module(bytes), fds));
  } catch {
    // Only an optimisation.
  }
}

if (process.send === undefined) {
  process.stderr.write('runner.js is started by the yurt wasi driver (it needs an IPC channel)\n');
  process.exit(2);
}
// An idle or preparing runner whose driver went away (agent stopped) has nothing to do.
process.on('disconnect', () => {
  if (phase !== 'running') process.exit(0);
});
process.on('message', (raw: ToRunner) => {
  switch (raw.type) {
    case 'prime':
      prime(raw.hash, raw.path);
      break;
    case 'run':
      void run(raw.spec);
      break;
  }
});
warmUp();
