/** `yurt job history` output, as Nomad's `nomad job history`: one key/value block per version. */
import type { JobDiff } from '../../api/job-plan.js';
import type { Job } from '../../structs/job.js';
import { formatJobDiff } from './job-diff.js';
import { formatKV } from './table.js';
import { formatUnixNano } from './time.js';

/** Versions come newest first; `diffs[i]` is version i against the one before it. */
export function formatJobHistory(versions: readonly Job[], diffs: readonly JobDiff[] | null, showDiffs: boolean): string {
  return versions
    .map((v, i) => {
      const pairs: Array<[string, string | number | boolean]> = [
        ['Version', v.Version],
        ['Stable', v.Stable],
        ['Submit Date', formatUnixNano(v.SubmitTime)],
      ];
      const diff = showDiffs ? diffs?.[i] : undefined;
      // The oldest version has nothing to differ from.
      if (diff === undefined || i === versions.length - 1) return formatKV(pairs);
      // The diff starts on the line after "Diff =", as Nomad prints it; the key stays aligned.
      const block = formatKV([...pairs, ['Diff', '-']]);
      return `${block.slice(0, -' -'.length)}\n${formatJobDiff(diff, false)}`;
    })
    .join('\n\n');
}
