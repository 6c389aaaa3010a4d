/** Prefix lookups for each kind of object, with the table Nomad shows when a prefix is ambiguous. */
import type { ApiClient } from '../api/client.js';
import type { AllocListStub } from '../structs/alloc.js';
import type { Evaluation } from '../structs/eval.js';
import type { JobListStub } from '../structs/job.js';
import type { NodeListStub } from '../structs/node.js';
import { formatAllocListStubs, formatJobList } from './format/job-view.js';
import { formatNodeList } from './format/node-view.js';
import { formatList, limit } from './format/table.js';
import type { Row } from './format/table.js';
import type { PrefixLookup } from './prefix.js';

export function jobLookup(client: ApiClient): PrefixLookup<JobListStub> {
  return {
    noun: 'job',
    uuid: false,
    list: async (p) => (await client.jobs.prefixList(p)).data ?? [],
    table: (items) => formatJobList(items),
  };
}

export function allocLookup(client: ApiClient, opts: { verbose: boolean; nowMs: number }): PrefixLookup<AllocListStub> {
  return {
    noun: 'allocation',
    uuid: true,
    list: async (p) => (await client.allocations.prefixList(p)).data ?? [],
    table: (items) => formatAllocListStubs(items, opts.verbose, opts.verbose ? 36 : 8, opts.nowMs),
  };
}

export function evalLookup(client: ApiClient, opts: { verbose: boolean }): PrefixLookup<Evaluation> {
  const idLen = opts.verbose ? 36 : 8;
  return {
    noun: 'evaluation',
    uuid: true,
    list: async (p) => (await client.evaluations.prefixList(p)).data ?? [],
    table: (items) => {
      const rows: Row[] = [['ID', 'Priority', 'Type', 'Triggered By', 'Status']];
      for (const e of items) rows.push([limit(e.ID, idLen), e.Priority, e.Type, e.TriggeredBy, e.Status]);
      return formatList(rows);
    },
  };
}

export function nodeLookup(client: ApiClient, opts: { verbose: boolean }): PrefixLookup<NodeListStub> {
  return {
    noun: 'node',
    uuid: true,
    list: async (p) => (await client.nodes.prefixList(p)).data ?? [],
    table: (items) => formatNodeList(items, opts.verbose),
  };
}
