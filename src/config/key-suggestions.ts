/**
 * Edit distance between two strings counting insertions, deletions, substitutions and swaps
 * of two neighbouring characters as one edit each (optimal string alignment), so the most
 * common typo, `lsiten` for `listen`, is one edit away.
 */
export function editDistance(a: string, b: string): number {
  // Three rolling rows: the swap rule looks two rows back.
  let before: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, before[j - 2]! + 1);
      }
      current.push(best);
    }
    before = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** The farthest a suggestion may be from the unknown key; farther is a guess, not a typo. */
const MAX_DISTANCE = 2;

/**
 * The allowed key an unknown key most likely misspells: the single closest one at most two
 * edits away and fewer edits than half the key's length (so `ab` never becomes `id`), compared
 * without regard to case. Undefined when nothing is that close or two keys are equally close.
 */
export function nearestKey(key: string, allowed: readonly string[]): string | undefined {
  const limit = Math.min(MAX_DISTANCE, Math.ceil(key.length / 2) - 1);
  let best: string | undefined;
  let bestDistance = Infinity;
  let tied = false;
  for (const candidate of allowed) {
    if (candidate === key) continue;
    const distance = editDistance(key.toLowerCase(), candidate.toLowerCase());
    if (distance > limit || distance > bestDistance) continue;
    tied = distance === bestDistance;
    if (distance < bestDistance) [best, bestDistance] = [candidate, distance];
  }
  return tied ? undefined : best;
}

/** The message for an unknown key, naming the key it most likely misspells when there is one. */
export function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const nearest = nearestKey(key, allowed);
  return nearest === undefined
    ? `unknown field "${key}"; remove it or correct its spelling`
    : `unknown field "${key}"; did you mean "${nearest}"?`;
}

/** The keys of a zod object schema (as an issue's `inst` gives it), or none for anything else. */
export function shapeKeys(schema: unknown): string[] {
  const def: unknown = isRecord(schema) && isRecord(schema['_zod']) ? schema['_zod']['def'] : {};
  const shape = isRecord(def) ? def['shape'] : undefined;
  return isRecord(shape) ? Object.keys(shape) : [];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}
