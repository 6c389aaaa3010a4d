/** `yurt eval list`: the evaluations, newest first as the server orders them, filtered by job or status. */
import { defineFlags } from '../../structs/flags.js';
import type { Evaluation } from '../../structs/eval.js';
import type { Command } from '../command.js';
import { EXIT_OK, apiClient, commandHelp, generalFlags, reportError } from '../command.js';
import { formatList, limit } from '../format/table.js';
import type { Row } from '../format/table.js';
import { toJson } from '../json-output.js';
import { UsageError, expectArgs, parseArgs } from '../usage.js';

const flags = defineFlags({
  job: { type: 'string', placeholder: 'job_id', help: 'Only show evaluations for this job ID.' },
  status: { type: 'string', placeholder: 'status', help: 'Only show evaluations with this status (pending, blocked, complete, failed, canceled).' },
  filter: { type: 'string', placeholder: 'expression', help: 'Specifies an expression used to filter query results (go-bexpr syntax, e.g. \'Status == "failed"\').' },
  'per-page': { type: 'string', placeholder: 'n', help: 'How many results to show per page.' },
  'page-token': { type: 'string', placeholder: 'token', help: 'Where to start pagination: the token printed with the previous page.' },
  verbose: { type: 'bool', help: 'Show full information: full IDs.' },
  json: { type: 'bool', help: 'Output the evaluations in their JSON format.' },
});

/** -job and -status as filter terms, joined with the user's -filter, so paging counts only matches. */
export function evalListFilter(job: string | undefined, status: string | undefined, filter: string | undefined): string {
  const terms: string[] = [];
  if (job !== undefined) terms.push(`JobID == ${JSON.stringify(job)}`);
  if (status !== undefined) terms.push(`Status == ${JSON.stringify(status)}`);
  if (filter !== undefined && filter.trim() !== '') terms.push(terms.length > 0 ? `(${filter})` : filter);
  return terms.join(' and ');
}

/** The command line to repeat for the next page: the same arguments with a new -page-token. */
function nextPageCommand(argv: readonly string[], token: string): string {
  const kept: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (/^--?page-token$/.test(a)) {
      i++;
      continue;
    }
    if (/^--?page-token=/.test(a)) continue;
    kept.push(/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`);
  }
  return ['yurt eval list', ...kept, `-page-token ${token}`].join(' ');
}

/** Nomad's `eval list` columns. */
export function formatEvalList(evals: readonly Evaluation[], idLen: number): string {
  const rows: Row[] = [['ID', 'Priority', 'Triggered By', 'Job ID', 'Namespace', 'Node ID', 'Status', 'Placement Failures']];
  for (const e of evals) {
    const failures = Object.keys(e.FailedTGAllocs ?? {}).length > 0;
    rows.push([limit(e.ID, idLen), e.Priority, e.TriggeredBy, e.JobID, e.Namespace, limit(e.NodeID, idLen), e.Status, failures]);
  }
  return formatList(rows);
}

export const evalListCommand: Command = {
  path: ['eval', 'list'],
  synopsis: 'List the evaluations',
  help: commandHelp({
    usage: 'yurt eval list [options]',
    description: 'List is used to list the set of evaluations processed by Yurt.',
    general: true,
    optionsTitle: 'Eval List Options',
    flags,
  }),
  async run(io, argv) {
    const { flags: f, args } = parseArgs(argv, { ...generalFlags, ...flags });
    expectArgs(args, 0, 0, 'no arguments');
    let perPage: number | undefined;
    if (f['per-page'] !== undefined) {
      if (!/^\d+$/.test(f['per-page'])) throw new UsageError(`Invalid -per-page value "${f['per-page']}": must be a non-negative integer`);
      perPage = Number(f['per-page']);
    }
    const client = apiClient(io, f);
    let evals;
    let nextToken = '';
    try {
      const r = await client.evaluations.list({
        filter: evalListFilter(f.job, f.status, f.filter),
        ...(perPage !== undefined ? { perPage } : {}),
        ...(f['page-token'] !== undefined ? { nextToken: f['page-token'] } : {}),
      });
      evals = r.data ?? [];
      nextToken = r.nextToken;
    } catch (err) {
      return reportError(io, 'Error querying evaluations', err);
    }
    // Filtered here too: the same result from a server that ignores `filter`.
    evals = evals.filter((e) => (f.job === undefined || e.JobID === f.job) && (f.status === undefined || e.Status === f.status));
    if (f.json) io.out(toJson(evals));
    else io.out(evals.length === 0 ? 'No evals found' : formatEvalList(evals, f.verbose ? 36 : 8));
    if (nextToken !== '' && !f.json) io.out(`\nResults have been paginated. To get the next page run:\n\n${nextPageCommand(argv, nextToken)}`);
    return EXIT_OK;
  },
};
