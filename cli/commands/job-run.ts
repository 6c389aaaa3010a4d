/**
 * `yurt job run <file>` (and `yurt run`): parse the job locally, register it, then follow
 * the evaluation and the new version's allocations until they settle, like `nomad job run`.
 * Exit 0 when everything placed and ran (or finished), 2 when placement or an allocation
 * failed (Nomad's "allocation errors" code), 1 when something else went wrong.
 */
import type { Job } from '../../structs/job.js';
import { defineFlags } from '../../structs/flags.js';
import { jobToApiJSON } from '../../structs/jobspec/index.js';
import type { Command } from '../command.js';
import { EXIT_ALLOC_ERRORS, EXIT_ERROR, EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import type { CliIo } from '../io.js';
import { loadJobFile } from '../job-file.js';
import { toJson } from '../json-output.js';
import { watchJobAllocations } from '../monitor/alloc-watch.js';
import { monitorDeployment } from '../monitor/deployment-monitor.js';
import { monitorEval } from '../monitor/eval-monitor.js';
import { monitorUi } from '../monitor/monitor-ui.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  detach: { type: 'bool', help: 'Return immediately instead of entering monitor mode. After job submission, the evaluation ID will be printed to the screen, which can be used to examine the evaluation using the eval status command.' },
  verbose: { type: 'bool', help: 'Display full information: full IDs in the monitor output.' },
  'check-index': {
    type: 'int',
    placeholder: 'index',
    help: 'If set, the job is only registered or updated if the passed job modify index matches the server side version. If a check-index value of zero is passed, the job is only registered if it does not yet exist. This is the index "yurt job plan" prints.',
  },
  output: { type: 'bool', help: 'Output the JSON that would be submitted to the HTTP API without submitting the job.' },
  var: { type: 'stringList', placeholder: 'key=value', help: 'Variable for template, can be used multiple times.' },
  'var-file': { type: 'stringList', placeholder: 'path', help: 'Path to HCL2 file containing user variables.' },
});

async function run(io: CliIo, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
  expectArgs(args, 1, 1, 'one argument: <path>');

  let job: Job;
  try {
    job = await loadJobFile(io, args[0] ?? '', { vars: f.var, varFiles: f['var-file'] });
  } catch (err) {
    if (err instanceof UsageError) throw err;
    return reportError(io, 'Error getting job struct', err);
  }
  if (f.output) {
    io.out(toJson(jobToApiJSON(job)));
    return EXIT_OK;
  }

  // A job that names its namespace is queried there unless -namespace says otherwise.
  const client = apiClient(io, { ...f, namespace: f.namespace ?? (job.Namespace !== '' ? job.Namespace : undefined) });
  let resp;
  try {
    const enforce = f['check-index'] !== undefined ? { EnforceIndex: true, JobModifyIndex: f['check-index'] } : {};
    resp = (await client.jobs.register(job, enforce)).data;
  } catch (err) {
    return reportError(io, 'Error submitting job', err);
  }
  if (resp.Warnings !== '') io.out(`Job Warnings:\n${resp.Warnings}\n`);

  // Periodic and parameterized jobs create no evaluation until they launch.
  if (resp.EvalID === '') {
    io.out('Job registration successful');
    return EXIT_OK;
  }
  if (f.detach) {
    io.out('Job registration successful');
    io.out(`Evaluation ID: ${resp.EvalID}`);
    return EXIT_OK;
  }

  const idLen = f.verbose ? 36 : 8;
  const ui = monitorUi(io.out, io.err, io.now);
  const monitored = await monitorEval(client, resp.EvalID, ui, { idLen, signal: io.signal });
  if (monitored.exitCode === EXIT_ERROR) return EXIT_ERROR;

  let registered: Job;
  try {
    registered = (await client.jobs.info(job.ID, { signal: io.signal })).data;
  } catch (err) {
    return reportError(io, 'Error querying job', err);
  }
  // A service job's new version rolls out as a deployment: follow it (Nomad ≥ 1.2).
  if (registered.Type === 'service') {
    let latest = null;
    try {
      latest = (await client.jobs.latestDeployment(registered.ID, { signal: io.signal })).data;
    } catch {
      // A server without deployments: watch the allocations instead.
    }
    if (latest !== null && latest.JobVersion === registered.Version && latest.JobCreateIndex === registered.CreateIndex) {
      const d = await monitorDeployment(client, latest.ID, ui, { idLen, signal: io.signal });
      if (d.exitCode === EXIT_ERROR) return EXIT_ERROR;
      return monitored.exitCode === EXIT_ALLOC_ERRORS || d.exitCode === EXIT_ALLOC_ERRORS ? EXIT_ALLOC_ERRORS : EXIT_OK;
    }
  }
  let outcome;
  try {
    outcome = await watchJobAllocations(client, registered, monitored.allocs, ui, { idLen, signal: io.signal });
  } catch (err) {
    ui.error(`Error reading allocations: ${(err as Error).message}`);
    return EXIT_ERROR;
  }
  return monitored.exitCode === EXIT_ALLOC_ERRORS || outcome.failed.length > 0 ? EXIT_ALLOC_ERRORS : EXIT_OK;
}

const description = `Starts running a new job or updates an existing job using the specification
located at <path>. This is the main command used to interact with Yurt.

If the supplied path is "-", the jobfile is read from stdin. The file may be
HCL or JSON (a JSON file starts with "{"; it may carry the job at the top level
or under a "Job" key).

Upon successful job submission, this command will immediately enter an
interactive monitor: it shows the evaluation's progress, then, for a service job,
its deployment until it succeeds or fails; for other jobs, each allocation of the
new job version until all of them run (system jobs) or finish (batch and sysbatch
jobs).

Exit codes: 0 when every allocation is placed and running or complete (and the
deployment succeeded); 2 when placement failed, an allocation failed or the
deployment failed; 1 for any other error.`;

export const jobRunCommand: Command = {
  path: ['job', 'run'],
  synopsis: 'Run a new job or update an existing job',
  help: commandHelp({ usage: 'yurt job run [options] <path>', description, general: true, optionsTitle: 'Run Options', flags }),
  run,
};

export const runCommand: Command = { ...jobRunCommand, path: ['run'], help: jobRunCommand.help.replace('yurt job run', 'yurt run') };
