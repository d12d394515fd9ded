import type { Dirent } from 'node:fs';
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { ConfigProblem } from '../../config/index.js';
import { importerErrors } from './errors.js';
import { isInside } from './file-ref-reader.js';

/** One document file found in the tree. */
export interface TreeDocument {
  /** Path relative to the root with `/` separators, e.g. `sites/web.yaml`: the name in problems. */
  readonly name: string;
  readonly realPath: string;
  readonly text: string;
}

/** What one walk of the configuration directory found. */
export interface ConfigTree {
  readonly realRoot: string;
  /** Documents in lexical order of their names. */
  readonly documents: readonly TreeDocument[];
  /** Files that looked like documents but could not be used. */
  readonly problems: readonly ConfigProblem[];
  /** Real paths of every directory visited or holding a document, to watch for changes. */
  readonly directories: readonly string[];
}

/** Limits on a walk, so a mistaken mount (a whole disk) fails clearly instead of slowly. */
export interface TreeLimits {
  /** Default 16. */
  readonly maxDepth?: number;
  /** Default 1000. */
  readonly maxDocuments?: number;
  /** Default 4 MiB. */
  readonly maxDocumentBytes?: number;
}

const DOCUMENT = /\.(ya?ml|json)$/i;

/**
 * Walks `root` and reads every `*.yaml`, `*.yml` and `*.json` file below it. Entries whose
 * name starts with "." are skipped: that hides Kubernetes' `..data` and `..<timestamp>`
 * directories, while the visible names (symbolic links into `..data`) are followed, as are
 * other links that stay inside the root. Throws POSTERN_ERR_CONFIG_DIR if `root` cannot be read.
 */
export async function readConfigTree(root: string, limits: TreeLimits = {}): Promise<ConfigTree> {
  let realRoot: string;
  try {
    realRoot = await realpath(root);
    await readdir(realRoot);
  } catch (err) {
    throw importerErrors.directory(root, err);
  }
  const walk = new Walk(root, realRoot, {
    maxDepth: limits.maxDepth ?? 16,
    maxDocuments: limits.maxDocuments ?? 1000,
    maxDocumentBytes: limits.maxDocumentBytes ?? 4 * 1024 * 1024,
  });
  await walk.directory('', realRoot, 0);
  walk.documents.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return {
    realRoot,
    documents: walk.documents,
    problems: walk.problems,
    directories: [...walk.directories],
  };
}

class Walk {
  readonly documents: TreeDocument[] = [];
  readonly problems: ConfigProblem[] = [];
  readonly directories = new Set<string>();

  constructor(
    private readonly root: string,
    private readonly realRoot: string,
    private readonly limits: Required<TreeLimits>,
  ) {}

  async directory(name: string, real: string, depth: number): Promise<void> {
    // A link back up the tree would loop; each real directory is read once.
    if (this.directories.has(real)) return;
    this.directories.add(real);
    let entries: Dirent[];
    try {
      entries = await readdir(join(this.root, name), { withFileTypes: true });
    } catch (err) {
      this.problem(name, `cannot be listed: ${String(err)}`);
      return;
    }
    entries.sort((a, b) => (a.name < b.name ? -1 : 1));
    for (const entry of entries) {
      if (entry.name.startsWith('.')) continue;
      await this.entry(name === '' ? entry.name : `${name}/${entry.name}`, depth);
    }
  }

  async entry(name: string, depth: number): Promise<void> {
    const path = join(this.root, name);
    let real: string;
    let isDirectory: boolean;
    try {
      real = await realpath(path);
      isDirectory = (await stat(real)).isDirectory();
    } catch {
      // A dangling link, or an entry removed while walking; the next change event rescans.
      return;
    }
    if (!isDirectory && !DOCUMENT.test(name)) return;
    if (!isInside(this.realRoot, real)) {
      this.problem(
        name,
        `is a symbolic link to ${real}, outside the configuration directory; it was not read`,
      );
      return;
    }
    if (isDirectory) {
      if (depth + 1 > this.limits.maxDepth) {
        this.problem(
          name,
          `is nested deeper than ${this.limits.maxDepth} directories; it was not read`,
        );
        return;
      }
      await this.directory(name, real, depth + 1);
      return;
    }
    await this.document(name, real);
  }

  async document(name: string, real: string): Promise<void> {
    if (this.documents.length >= this.limits.maxDocuments) {
      this.problem(
        name,
        `is beyond the limit of ${this.limits.maxDocuments} documents; it was not read`,
      );
      return;
    }
    this.directories.add(dirname(real));
    try {
      const size = (await stat(real)).size;
      if (size > this.limits.maxDocumentBytes) {
        this.problem(name, `is larger than ${this.limits.maxDocumentBytes} bytes; it was not read`);
        return;
      }
      this.documents.push({ name, realPath: real, text: await readFile(real, 'utf8') });
    } catch (err) {
      this.problem(name, `cannot be read: ${String(err)}`);
    }
  }

  problem(file: string, message: string): void {
    // About the file as a whole: no line or column, rather than a made-up 0:0.
    this.problems.push({ file: file === '' ? '.' : file, path: '', message });
  }
}
