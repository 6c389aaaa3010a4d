/**
 * What Nomad's list endpoints share: `filter` (a go-bexpr expression, see filter-expression.ts)
 * applied to the objects as the endpoint returns them, then paging with `per_page` and
 * `next_token`. The token is the sort key of the first object of the next page, sent back in
 * the `X-Nomad-NextToken` header; it stays valid when objects before it are removed.
 */
import { YurtError } from '../../structs/errors.js';
import { compileFilter } from './filter-expression.js';
import type { RequestContext } from './http-router.js';

export const NEXT_TOKEN_HEADER = 'X-Nomad-NextToken';

/**
 * Filters and pages `items`, in ascending order of `token(x)` (descending with `reverse=true`),
 * sets the next-token header when more remain, and maps the page through `project`. As in
 * Nomad, the filter sees the full object (a job's Meta, an allocation's Job), not the stub
 * the list returns.
 */
export function listPage<T, R = T>(rc: RequestContext, items: readonly T[], token: (x: T) => string, project?: (x: T) => R): R[] {
  const filterSrc = rc.query.get('filter');
  const perPageRaw = rc.query.get('per_page');
  const nextToken = rc.query.get('next_token') ?? '';
  let perPage = 0;
  if (perPageRaw !== null && perPageRaw !== '') {
    perPage = Number(perPageRaw);
    if (!/^\d+$/.test(perPageRaw) || !Number.isSafeInteger(perPage)) throw new YurtError('invalid_argument', `Invalid per_page: ${perPageRaw}`);
  }
  const filter = filterSrc !== null && filterSrc !== '' ? compileFilter(filterSrc) : null;
  const reverse = rc.query.get('reverse') === 'true';
  const keyed = items.map((x) => ({ x, k: token(x) })).sort((a, b) => compareKeys(a.k, b.k) * (reverse ? -1 : 1));
  const out: T[] = [];
  for (const { x, k } of keyed) {
    if (nextToken !== '') {
      const c = compareKeys(k, nextToken);
      if (reverse ? c > 0 : c < 0) continue;
    }
    if (filter && !filter.matches(x)) continue;
    if (perPage > 0 && out.length === perPage) {
      rc.res.setHeader(NEXT_TOKEN_HEADER, k);
      break;
    }
    out.push(x);
  }
  return project ? out.map(project) : (out as unknown as R[]);
}

/** Plain code-unit order, so a token compares the same way on every request. */
function compareKeys(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
