/** The `yurt` CLI's entry point (bin/yurt.js imports it for every command but `agent`). */
import { processIo } from './io.js';
import { runCli } from './run-cli.js';

process.exitCode = await runCli(process.argv.slice(2), processIo());
