import { collectionNames } from './document.js';
import { formatHostPort, hostPortProblem, parseHostPort } from './host-port.js';
import type { PathSegment } from './problems.js';
import { formatPath } from './problems.js';

/** A problem found in a document, located by its path only. */
export interface PathProblem {
  readonly path: readonly PathSegment[];
  readonly message: string;
}

/**
 * Checks that span several entries of one document (unique names, unique node addresses).
 * They run on the raw parsed data rather than as zod refinements because zod skips
 * refinements of a list once any entry has an error, and every problem must be reported at once.
 */
export function documentProblems(raw: unknown): PathProblem[] {
  if (!isRecord(raw)) return [];
  const problems: PathProblem[] = [];
  for (const collection of collectionNames) {
    const list = raw[collection];
    if (!Array.isArray(list)) continue;
    problems.push(...duplicates(list, [collection], 'name', (v) => v, `in ${collection}`));
  }
  const pools = raw['pools'];
  if (Array.isArray(pools)) {
    pools.forEach((pool, i) => {
      if (!isRecord(pool) || !Array.isArray(pool['nodes'])) return;
      problems.push(
        ...duplicates(pool['nodes'], ['pools', i, 'nodes'], 'address', canonical, 'in this pool'),
      );
    });
  }
  return problems;
}

function duplicates(
  list: readonly unknown[],
  base: readonly PathSegment[],
  field: string,
  key: (value: string) => string,
  scope: string,
): PathProblem[] {
  const firstIndex = new Map<string, number>();
  const problems: PathProblem[] = [];
  list.forEach((entry, index) => {
    const value = isRecord(entry) ? entry[field] : undefined;
    if (typeof value !== 'string') return;
    const k = key(value);
    const first = firstIndex.get(k);
    if (first === undefined) {
      firstIndex.set(k, index);
      return;
    }
    problems.push({
      path: [...base, index, field],
      message: `duplicate ${field} "${value}" ${scope} (first at ${formatPath([...base, first])}); each ${field} may appear once`,
    });
  });
  return problems;
}

/** Compares node addresses in canonical form so `[::0]:80` and `[::]:80` count as one. */
function canonical(value: string): string {
  return hostPortProblem(value) === undefined ? formatHostPort(parseHostPort(value)) : value;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
