/**
 * Majority arithmetic over a set of voters. Membership changes are single-server (see
 * configuration.ts), so one majority of one configuration is all the core ever needs; joint
 * consensus (thesis §4.3) would replace these with functions of two majorities.
 */

export type VoteResult = 'won' | 'lost' | 'pending';

/** The highest index that a majority of `voters` have matched. 0 with no voters. */
export function committedIndex(voters: readonly string[], matchOf: (id: string) => number): number {
  if (voters.length === 0) return 0;
  const matched = voters.map(matchOf).sort((a, b) => b - a);
  // Sorted descending, the value at position floor(n/2) is held by floor(n/2)+1 voters: a majority.
  return matched[Math.floor(voters.length / 2)] ?? 0;
}

export function voteResult(voters: readonly string[], votes: ReadonlyMap<string, boolean>): VoteResult {
  const majority = Math.floor(voters.length / 2) + 1;
  let granted = 0;
  let missing = 0;
  for (const id of voters) {
    const v = votes.get(id);
    if (v === undefined) missing++;
    else if (v) granted++;
  }
  if (voters.length === 0) return 'pending';
  if (granted >= majority) return 'won';
  if (granted + missing >= majority) return 'pending';
  return 'lost';
}

/** Whether the voters for which `yes` holds form a majority. */
export function isMajority(voters: readonly string[], yes: (id: string) => boolean): boolean {
  let n = 0;
  for (const id of voters) if (yes(id)) n++;
  return voters.length > 0 && n >= Math.floor(voters.length / 2) + 1;
}
