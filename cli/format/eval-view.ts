/** `yurt eval status` output, laid out as Nomad's `nomad eval status`. */
import type { AllocListStub } from '../../structs/alloc.js';
import type { Evaluation } from '../../structs/eval.js';
import { formatAllocListStubs } from './job-view.js';
import { formatFailedPlacements } from './placement.js';
import { formatKV, limit } from './table.js';
import { formatUnixNano, nsToMs, prettyTimeDiff } from './time.js';

export function formatEvalDetail(
  ev: Evaluation,
  allocs: readonly AllocListStub[],
  opts: { verbose: boolean; nowMs: number },
): string {
  const idLen = opts.verbose ? 36 : 8;
  const when = (ns: number): string => (opts.verbose ? formatUnixNano(ns) : prettyTimeDiff(nsToMs(ns), opts.nowMs));
  const failures = Object.keys(ev.FailedTGAllocs ?? {}).length > 0;
  const basic: Array<[string, string | number | boolean]> = [
    ['ID', limit(ev.ID, idLen)],
    ['Create Time', when(ev.CreateTime)],
    ['Modify Time', when(ev.ModifyTime)],
    ['Status', ev.Status],
    ['Status Description', ev.StatusDescription],
    ['Type', ev.Type],
    ['TriggeredBy', ev.TriggeredBy],
  ];
  if (ev.JobID !== '') basic.push(['Job ID', ev.JobID]);
  if (ev.NodeID !== '') basic.push(['Node ID', limit(ev.NodeID, idLen)]);
  if (ev.DeploymentID !== '') basic.push(['Deployment ID', limit(ev.DeploymentID, idLen)]);
  basic.push(['Namespace', ev.Namespace], ['Priority', ev.Priority], ['Placement Failures', failures]);
  if (ev.WaitUntil > 0) basic.push(['Wait Until', formatUnixNano(ev.WaitUntil)]);
  if (ev.PreviousEval !== '') basic.push(['Previous Eval', limit(ev.PreviousEval, idLen)]);
  if (ev.NextEval !== '') basic.push(['Next Eval', limit(ev.NextEval, idLen)]);
  if (ev.BlockedEval !== '') basic.push(['Blocked Eval', limit(ev.BlockedEval, idLen)]);

  const sections = [formatKV(basic)];
  if (allocs.length > 0) sections.push(`Placed Allocations\n${formatAllocListStubs(allocs, opts.verbose, idLen, opts.nowMs)}`);
  if (failures) {
    let text = `Failed Placements\n${formatFailedPlacements(ev.FailedTGAllocs).join('\n')}`;
    if (ev.BlockedEval !== '') {
      text += `\n\nEvaluation "${limit(ev.BlockedEval, idLen)}" waiting for additional capacity to place remainder`;
    }
    sections.push(text);
  }
  return sections.join('\n\n');
}
