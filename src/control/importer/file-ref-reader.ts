import { readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import { ConfigErrors } from '../../config/index.js';

/** One file read through `valueFrom`: its text or why it could not be read. */
export interface FileRefEntry {
  readonly name: string;
  readonly realPath: string | undefined;
  readonly text: string | undefined;
  readonly error: string | undefined;
}

/** Largest file a `valueFrom` may read: certificates, keys and rule bodies are small. */
export const MAX_FILE_REF_BYTES = 1_048_576;

/** True when `path` is `root` or lies below it. */
export function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === '' || (rel !== '..' && !rel.startsWith(`..${sep}`) && !isAbsolute(rel));
}

/**
 * Reads `valueFrom` files below the import root, synchronously (the document parser is
 * synchronous, and these files are few and small). Each name is read once per import, so the
 * content that is fingerprinted is the content that is parsed. Symbolic links are followed
 * (Kubernetes mounts are links into `..data`) but must end inside the root.
 */
export class FileRefReader {
  readonly #root: string;
  readonly #realRoot: string;
  readonly #entries = new Map<string, FileRefEntry>();

  constructor(root: string, realRoot: string) {
    this.#root = root;
    this.#realRoot = realRoot;
  }

  /** Every file asked for so far, by name. */
  entries(): FileRefEntry[] {
    return [...this.#entries.values()];
  }

  /** Directories whose changes may change a referenced file. */
  directories(): string[] {
    return this.entries().flatMap((e) => [
      dirname(join(this.#root, e.name)),
      ...(e.realPath === undefined ? [] : [dirname(e.realPath)]),
    ]);
  }

  /** The file's text; throws POSTERN_ERR_CONFIG_FILE_REF saying why it cannot be used. */
  read = (name: string): string => {
    let entry = this.#entries.get(name);
    if (entry === undefined) {
      entry = this.#load(name);
      this.#entries.set(name, entry);
    }
    if (entry.text === undefined) throw ConfigErrors.fileRef(name, entry.error ?? 'unreadable');
    return entry.text;
  };

  #load(name: string): FileRefEntry {
    const fail = (error: string, realPath?: string): FileRefEntry => ({
      name,
      realPath,
      text: undefined,
      error,
    });
    let realPath: string;
    try {
      realPath = realpathSync(join(this.#root, name));
    } catch (err) {
      return fail(describe(err));
    }
    if (!isInside(this.#realRoot, realPath)) {
      return fail(`it is a symbolic link to ${realPath}, outside the configuration directory`);
    }
    try {
      const stat = statSync(realPath);
      if (!stat.isFile()) return fail('it is not a regular file', realPath);
      if (stat.size > MAX_FILE_REF_BYTES) {
        return fail(`it is larger than ${MAX_FILE_REF_BYTES} bytes`, realPath);
      }
      return { name, realPath, text: readFileSync(realPath, 'utf8'), error: undefined };
    } catch (err) {
      return fail(describe(err), realPath);
    }
  }
}

function describe(err: unknown): string {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return 'no such file';
  if (code === 'EACCES') return 'permission denied';
  if (code === 'ELOOP') return 'too many symbolic links';
  return err instanceof Error ? err.message : String(err);
}
