import { watch } from 'node:fs';
import type { FSWatcher } from 'node:fs';

/**
 * Watches a changing set of directories (not recursively: the importer names every directory
 * it read, including the real directories behind symbolic links) and calls `onChange` for any
 * event. A directory that disappears (an old `..<timestamp>` dir after a ConfigMap swap) just
 * stops being watched; the importer's periodic rescan covers anything events miss.
 */
export class DirectoryWatcher {
  readonly #watchers = new Map<string, FSWatcher>();
  readonly #onChange: () => void;

  constructor(onChange: () => void) {
    this.#onChange = onChange;
  }

  /** Watches exactly `directories` from now on. */
  update(directories: Iterable<string>): void {
    const wanted = new Set(directories);
    for (const [dir, watcher] of this.#watchers) {
      if (!wanted.has(dir)) this.#close(dir, watcher);
    }
    for (const dir of wanted) {
      if (!this.#watchers.has(dir)) this.#open(dir);
    }
  }

  /** The directories watched now. */
  watched(): string[] {
    return [...this.#watchers.keys()];
  }

  /** Stops watching everything. */
  close(): void {
    for (const [dir, watcher] of this.#watchers) this.#close(dir, watcher);
  }

  #open(dir: string): void {
    let watcher: FSWatcher;
    try {
      // persistent: false — watching alone must not keep the process alive.
      watcher = watch(dir, { persistent: false }, () => this.#onChange());
    } catch {
      return;
    }
    watcher.on('error', () => {
      this.#close(dir, watcher);
      this.#onChange();
    });
    this.#watchers.set(dir, watcher);
  }

  #close(dir: string, watcher: FSWatcher): void {
    if (this.#watchers.get(dir) === watcher) this.#watchers.delete(dir);
    watcher.close();
  }
}
