import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | undefined;

/**
 * The repository root (the folder whose package.json is named "postern"): searched above this
 * file, then above the working directory (for builds into an out-of-tree --outDir).
 */
export function repoRoot(): string {
  if (cached !== undefined) return cached;
  const here = dirname(fileURLToPath(import.meta.url));
  cached = findUp(here) ?? findUp(process.cwd());
  if (cached === undefined) {
    throw new Error(`repository root not found above ${here} or ${process.cwd()}`);
  }
  return cached;
}

function findUp(start: string): string | undefined {
  let dir = start;
  // Bounded walk: compiled files sit a few levels under the root (dist/test/support).
  for (let i = 0; i < 12; i++) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && isPostern(pkg)) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
  return undefined;
}

function isPostern(pkgPath: string): boolean {
  try {
    const parsed = JSON.parse(readFileSync(pkgPath, 'utf8')) as { name?: unknown };
    return parsed.name === 'postern';
  } catch {
    return false;
  }
}
