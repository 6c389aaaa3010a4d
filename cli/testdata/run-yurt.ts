/** Test support: run `yurt` in-process with a captured terminal and collect what it printed. */
import { runCli } from '../run-cli.js';
import { captureIo, type CapturedIo, type CaptureOptions } from './capture-io.js';

export interface YurtRun {
  code: number;
  out: string;
  err: string;
  io: CapturedIo;
}

export async function runYurt(argv: string[], opts: CaptureOptions = {}): Promise<YurtRun> {
  const io = captureIo(opts);
  const code = await runCli(argv, io);
  return { code, out: io.stdout(), err: io.stderr(), io };
}
