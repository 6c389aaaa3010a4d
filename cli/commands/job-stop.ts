/** `yurt job stop <job>` (and `yurt stop`): deregister a job and follow the evaluation. */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { toJson } from '../json-output.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import type { CliIo } from '../io.js';
import { jobLookup } from '../lookups.js';
import { monitorEval } from '../monitor/eval-monitor.js';
import { monitorUi } from '../monitor/monitor-ui.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode. After the deregister command is submitted, the evaluation ID is printed.' },
  purge: { type: 'bool', help: 'Purge the job from the system instead of only marking it stopped.' },
  yes: { type: 'bool', help: 'Automatic yes to prompts.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs in the monitor output.' },
  json: { type: 'bool', help: 'Print the API response as JSON instead of monitoring the evaluation.' },
});

/** Nomad asks before stopping a job that was named only by a prefix. */
async function confirm(io: CliIo, jobId: string): Promise<boolean> {
  io.out(`Are you sure you want to stop job "${jobId}"? [y/N]`);
  const answer = (await io.readLine())?.trim().toLowerCase() ?? '';
  return answer === 'y' || answer === 'yes';
}

async function run(io: CliIo, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
  expectArgs(args, 1, 1, 'one argument: <job>');
  const client = apiClient(io, f);
  const given = args[0] ?? '';
  const stub = await resolvePrefix(io, given, jobLookup(client));
  if (typeof stub === 'number') return stub;

  if (stub.ID !== given && !f.yes && !(await confirm(io, stub.ID))) {
    io.out('Cancelling job stop');
    return EXIT_OK;
  }
  let resp;
  try {
    resp = (await client.jobs.deregister(stub.ID, { purge: f.purge })).data;
  } catch (err) {
    return reportError(io, 'Error deregistering job', err);
  }
  if (f.json) {
    io.out(toJson(resp));
    return EXIT_OK;
  }
  if (resp === null || resp.EvalID === '') return EXIT_OK;
  if (f.detach) {
    io.out(resp.EvalID);
    return EXIT_OK;
  }
  const ui = monitorUi(io.out, io.err, io.now);
  const res = await monitorEval(client, resp.EvalID, ui, { idLen: f.verbose ? 36 : 8, signal: io.signal });
  return res.exitCode;
}

const description = `Stop an existing job. This command is used to signal allocations to shut
down for the given job ID. Upon successful deregistration, an interactive
monitor session will start to display log lines as the job unwinds its
allocations and completes shutting down. A job named by a prefix of its ID asks
for confirmation first, unless -yes is given.`;

export const jobStopCommand: Command = {
  path: ['job', 'stop'],
  synopsis: 'Stop a running job',
  help: commandHelp({ usage: 'yurt job stop [options] <job>', description, general: true, optionsTitle: 'Stop Options', flags }),
  run,
};

export const stopCommand: Command = { ...jobStopCommand, path: ['stop'], help: jobStopCommand.help.replace('yurt job stop', 'yurt stop') };
