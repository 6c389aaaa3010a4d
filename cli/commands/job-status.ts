/** `yurt job status [job]`: the job list, or one job in detail (`yurt status` dispatches here for jobs). */
import { defineFlags } from '../../structs/flags.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import type { CliIo } from '../io.js';
import { formatJobDetail, formatJobList } from '../format/job-view.js';
import { toJson } from '../json-output.js';
import { jobLookup } from '../lookups.js';
import { resolvePrefix } from '../prefix.js';
import { expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  verbose: { type: 'bool', help: 'Display full information: full IDs, exact times and the evaluations.' },
  json: { type: 'bool', help: 'Output the job (or the job list) in its API JSON format.' },
});

async function run(io: CliIo, argv: string[]): Promise<number> {
  const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
  expectArgs(args, 0, 1, 'either no arguments or one: <job>');
  const client = apiClient(io, f);

  if (args.length === 0) {
    let jobs;
    try {
      jobs = (await client.jobs.list()).data ?? [];
    } catch (err) {
      return reportError(io, 'Error querying jobs', err);
    }
    if (f.json) io.out(toJson(jobs));
    else io.out(jobs.length === 0 ? 'No running jobs' : formatJobList(jobs));
    return EXIT_OK;
  }

  const stub = await resolvePrefix(io, args[0] ?? '', jobLookup(client));
  if (typeof stub === 'number') return stub;
  try {
    const job = (await client.jobs.info(stub.ID)).data;
    if (f.json) {
      io.out(toJson(job));
      return EXIT_OK;
    }
    const [summary, allocations, evaluations, latestDeployment] = await Promise.all([
      client.jobs.summary(job.ID),
      client.jobs.allocations(job.ID),
      client.jobs.evaluations(job.ID),
      // Only service jobs are deployed; a server without deployments leaves the section out.
      job.Type === 'service' ? client.jobs.latestDeployment(job.ID).then((r) => r.data, () => null) : Promise.resolve(null),
    ]);
    io.out(
      formatJobDetail({
        job,
        summary: summary.data,
        allocations: allocations.data ?? [],
        evaluations: evaluations.data ?? [],
        verbose: f.verbose,
        nowMs: io.now(),
        latestDeployment,
      }),
    );
    return EXIT_OK;
  } catch (err) {
    return reportError(io, 'Error querying job', err);
  }
}

const description = `Display status information about a job. If no job ID is given, a list of all
known jobs is shown. A job ID prefix is enough when it matches a single job.`;

export const jobStatusCommand: Command = {
  path: ['job', 'status'],
  synopsis: 'Display status information about a job',
  help: commandHelp({ usage: 'yurt job status [options] <job>', description, general: true, optionsTitle: 'Status Options', flags }),
  run,
};
