import { rm } from 'node:fs/promises';
import { after } from 'node:test';
import { tempDir } from '../../harness/harness.js';

/**
 * A `tempDir` whose directories are removed after the calling test file's tests. Call it at
 * the top level of the file, where `after` hooks belong.
 */
export function tempDirsRemovedAfter(): (prefix: string) => Promise<string> {
  const dirs: string[] = [];
  after(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });
  return async (prefix) => {
    const dir = await tempDir(prefix);
    dirs.push(dir);
    return dir;
  };
}
