/**
 * `yurt job plan <file>` (and `yurt plan`): the scheduler's dry run of a job file against
 * the cluster, with the diff against the running version. Exit codes are Nomad's, so CI
 * scripts can branch on them: 0 no allocation would change, 1 some would, 255 error.
 */
import type { Job } from '../../structs/job.js';
import { defineFlags } from '../../structs/flags.js';
import { asYurtError } from '../../structs/errors.js';
import type { Command } from '../command.js';
import { apiClient, commandHelp, generalFlags } from '../command.js';
import { PLAN_ERROR, formatPlan, planExitCode } from '../format/plan-view.js';
import type { CliIo } from '../io.js';
import { loadJobFile } from '../job-file.js';
import { toJson } from '../json-output.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  diff: { type: 'bool', default: true, help: 'Determines whether the diff between the remote job and planned job is shown. Defaults to true.' },
  verbose: { type: 'bool', help: 'Increase diff verbosity: show the fields of added and removed objects too.' },
  json: { type: 'bool', help: "Output the API's plan response as JSON." },
  var: { type: 'stringList', placeholder: 'key=value', help: 'Variable for template, can be used multiple times.' },
  'var-file': { type: 'stringList', placeholder: 'path', help: 'Path to HCL2 file containing user variables.' },
});

async function run(io: CliIo, argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(parsed.args, 1, 1, 'one argument: <path>');
  } catch (err) {
    // Plan reports every failure with 255 so that 1 means "changes" and nothing else.
    if (err instanceof UsageError) {
      io.err(`${err.message}\nFor additional help try 'yurt job plan -help'`);
      return PLAN_ERROR;
    }
    throw err;
  }
  const { flags: f, args } = parsed;
  const path = args[0] ?? '';
  let job: Job;
  try {
    job = await loadJobFile(io, path, { vars: f.var, varFiles: f['var-file'] });
  } catch (err) {
    io.err(`Error getting job struct: ${asYurtError(err).message}`);
    return PLAN_ERROR;
  }
  const client = apiClient(io, { ...f, namespace: f.namespace ?? (job.Namespace !== '' ? job.Namespace : undefined) });
  let resp;
  try {
    resp = (await client.jobs.plan(job, f.diff)).data;
  } catch (err) {
    io.err(`Error during plan: ${asYurtError(err).message}`);
    return PLAN_ERROR;
  }
  if (resp === null) {
    io.err('Error during plan: the server answered with an empty plan');
    return PLAN_ERROR;
  }
  io.out(f.json ? toJson(resp) : formatPlan(resp, { jobType: job.Type, path, diff: f.diff, verbose: f.verbose }));
  return planExitCode(resp);
}

const description = `Plan invokes a dry-run of the scheduler to determine the effects of submitting
either a new or updated version of a job. The plan will not result in any
changes to the cluster but gives insight into whether the job could be run
successfully and how it would affect existing allocations.

A job modify index is returned with the plan. This value can be used when
submitting the job using "yurt job run -check-index", which will check that the
job was not modified between the plan and run command before invoking the
scheduler. This ensures the job has not been modified since the plan.

A structured diff between the local and remote job is displayed to give insight
into what the scheduler will attempt to do and why.

Exit codes: 0 when no allocations would be created or destroyed, 1 when
allocations would be created or destroyed, 255 on any error.`;

export const jobPlanCommand: Command = {
  path: ['job', 'plan'],
  synopsis: 'Dry-run a job update to determine its effects',
  help: commandHelp({ usage: 'yurt job plan [options] <path>', description, general: true, optionsTitle: 'Plan Options', flags }),
  run,
};

export const planCommand: Command = { ...jobPlanCommand, path: ['plan'], help: jobPlanCommand.help.replace('yurt job plan', 'yurt plan') };
