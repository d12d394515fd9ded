import type { Logger } from 'pino';
import { pino } from 'pino';
import type { Registry } from 'prom-client';
import { ConfigProblemsError } from '../../config/index.js';
import type { ConfigProblem, Configuration } from '../../config/index.js';
import { CoreErrors, isPosternError, systemClock } from '../../core/index.js';
import type { Clock, PosternError, TimerHandle } from '../../core/index.js';
import type { TreeLimits } from './config-tree.js';
import { listenProblem } from './apply-failure.js';
import { DirectoryWatcher } from './directory-watcher.js';
import { importerErrors } from './errors.js';
import { evaluateTree, fingerprintTree, readTree } from './import-tree.js';
import type { ImportedConfiguration, TreeRead } from './import-tree.js';
import { ImporterMetrics } from './importer-metrics.js';
import type { ImportStatus } from './import-status.js';
import { ImportState } from './import-status.js';

/** What the importer tells `onConfiguration` about a new generation. */
export interface ImportInfo {
  /** 1 for the first configuration applied, then +1 for each. */
  readonly generation: number;
  /** Documents it was made of, relative to the root, in import order. */
  readonly files: readonly string[];
  /** Files read through `valueFrom`, relative to the root. */
  readonly referencedFiles: readonly string[];
}

/** Options of a ConfigImporter; every field but `onConfiguration` has a default. */
export interface ConfigImporterOptions {
  /**
   * Applies a validated configuration; a rejection keeps the previous generation running.
   * References to names no document defines are left to it (they may name objects created
   * through the admin API): it rejects with a ConfigProblemsError to refuse them, and the
   * import is reported invalid with those problems.
   */
  readonly onConfiguration: (config: Configuration, info: ImportInfo) => void | Promise<void>;
  /** Told the new status after every import of changed documents, applied or not. */
  readonly onStatus?: (status: ImportStatus) => void;
  /** Default: silent. */
  readonly logger?: Logger;
  /** Default: the system clock. */
  readonly clock?: Clock;
  /** Registers the postern_edge_config_* metrics here; default: no metrics. */
  readonly registry?: Registry;
  /** Quiet time after a file event before importing; default 100 ms. */
  readonly debounceMs?: number;
  /** Longest an import waits for events to settle; default 500 ms. */
  readonly maxDelayMs?: number;
  /** Full rescan interval, for changes events miss (a swapped `..data` link); default 2000 ms, 0 = off. */
  readonly rescanIntervalMs?: number;
  /** Watch directories for events; default true. */
  readonly watch?: boolean;
  readonly limits?: TreeLimits;
}

/** The result of the first import at start. */
export type StartOutcome =
  | { readonly ok: true; readonly generation: number }
  | { readonly ok: false; readonly error: PosternError };

/**
 * Watches a configuration directory tree and applies it as a whole whenever it changes: every
 * document is parsed and the merged configuration validated, then `onConfiguration` gets it
 * with a new generation number. Any problem leaves the running generation alone and is kept
 * in `status()`, logged once, and counted in metrics. Changes are noticed through directory
 * events (debounced) and a periodic rescan that compares a hash of every document and every
 * file read through `valueFrom`.
 */
export class ConfigImporter {
  readonly #root: string;
  readonly #options: ConfigImporterOptions;
  readonly #clock: Clock;
  readonly #log: Logger;
  readonly #state: ImportState;
  readonly #watcher: DirectoryWatcher | undefined;
  #fingerprint: string | undefined;
  #references: readonly string[] = [];
  #configuration: Configuration | undefined;
  #pending = false;
  #force = false;
  #running: Promise<void> | undefined;
  #debounce: TimerHandle | undefined;
  #firstEventAt: number | undefined;
  #rescan: TimerHandle | undefined;
  #started = false;
  #stopped = false;

  constructor(root: string, options: ConfigImporterOptions) {
    this.#root = root;
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
    this.#log = (options.logger ?? pino({ level: 'silent' })).child({ configDir: root });
    const metrics = options.registry ? new ImporterMetrics(options.registry) : undefined;
    this.#state = new ImportState(this.#clock, metrics);
    this.#watcher =
      options.watch === false ? undefined : new DirectoryWatcher(() => this.#schedule());
  }

  /** Imports once, then starts watching; resolves with the outcome of that first import. */
  async start(): Promise<StartOutcome> {
    if (this.#started) throw CoreErrors.invalidArgument('call', 'start a ConfigImporter once');
    this.#started = true;
    await this.#trigger();
    this.#scheduleRescan();
    const error = this.#state.lastError;
    return error === undefined
      ? { ok: true, generation: this.#state.generation }
      : { ok: false, error };
  }

  /** The import state for `GET /api/v1/import/status`. */
  status(): ImportStatus {
    return this.#state.snapshot();
  }

  /** The configuration of the running generation, if one was applied. */
  get configuration(): Configuration | undefined {
    return this.#configuration;
  }

  /** Directories watched now (for diagnostics and tests). */
  watchedDirectories(): string[] {
    return this.#watcher?.watched() ?? [];
  }

  /** Imports now; with `force`, even when nothing changed since the last import. */
  async refresh(options: { readonly force?: boolean } = {}): Promise<ImportStatus> {
    if (options.force === true) this.#force = true;
    await this.#trigger();
    return this.status();
  }

  /** Stops watching and rescanning, and waits for an import in progress. */
  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#debounce !== undefined) this.#clock.clearTimeout(this.#debounce);
    if (this.#rescan !== undefined) this.#clock.clearTimeout(this.#rescan);
    this.#watcher?.close();
    await this.#running;
  }

  #schedule(): void {
    if (this.#stopped) return;
    const now = this.#clock.monotonic();
    this.#firstEventAt ??= now;
    if (this.#debounce !== undefined) this.#clock.clearTimeout(this.#debounce);
    const maxDelay = this.#options.maxDelayMs ?? 500;
    const wait = Math.max(
      0,
      Math.min(this.#options.debounceMs ?? 100, this.#firstEventAt + maxDelay - now),
    );
    this.#debounce = this.#timer(wait, () => {
      this.#debounce = undefined;
      this.#firstEventAt = undefined;
      void this.#trigger();
    });
  }

  #scheduleRescan(): void {
    const interval = this.#options.rescanIntervalMs ?? 2000;
    if (this.#stopped || interval <= 0) return;
    this.#rescan = this.#timer(interval, () => {
      void this.#trigger().finally(() => this.#scheduleRescan());
    });
  }

  #timer(ms: number, fn: () => void): TimerHandle {
    const handle = this.#clock.setTimeout(fn, ms);
    handle.unref?.();
    return handle;
  }

  /** Runs imports one after another; a request during an import runs one more afterwards. */
  #trigger(): Promise<void> {
    if (this.#stopped) return Promise.resolve();
    this.#pending = true;
    this.#running ??= this.#drain().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #drain(): Promise<void> {
    while (this.#pending && !this.#stopped) {
      this.#pending = false;
      const force = this.#force;
      this.#force = false;
      try {
        await this.#attempt(force);
      } catch (err) {
        // A bug, not a bad document: keep the running generation and say so loudly.
        this.#log.error({ err }, 'configuration import failed unexpectedly');
        this.#fail(
          isPosternError(err) ? err : importerErrors.applyFailed(this.#state.generation + 1, err),
          'invalid',
        );
      }
    }
  }

  async #attempt(force: boolean): Promise<void> {
    let read: TreeRead;
    try {
      read = await readTree(this.#root, {
        references: this.#references,
        limits: this.#options.limits ?? {},
      });
    } catch (err) {
      if (!isPosternError(err)) throw err;
      const fingerprint = `error\0${err.message}`;
      if (!force && fingerprint === this.#fingerprint) return;
      this.#fingerprint = fingerprint;
      this.#fail(err, 'invalid');
      return;
    }
    this.#watcher?.update(read.tree.directories);
    if (!force && read.fingerprint === this.#fingerprint) return;
    const result = evaluateTree(read, { external: true });
    this.#references = result.referencedFiles;
    // Fingerprinted again with the new references (cached, not re-read), so the next rescan
    // of an unchanged tree matches and does not import a second time.
    this.#fingerprint = fingerprintTree(read.tree, read.reader, this.#references);
    this.#watcher?.update([...read.tree.directories, ...read.reader.directories()]);
    if (result.ok) await this.#apply(result);
    else this.#fail(result.error, 'invalid', result);
  }

  /** Overrides already logged (JSON of each), so an unchanged one is not logged per import. */
  #loggedOverrides = new Set<string>();

  async #apply(result: ImportedConfiguration): Promise<void> {
    const generation = this.#state.generation + 1;
    const info: ImportInfo = {
      generation,
      files: result.files,
      referencedFiles: result.referencedFiles,
    };
    try {
      await this.#options.onConfiguration(result.config, info);
    } catch (err) {
      if (err instanceof ConfigProblemsError) {
        // The documents do not fit the objects they are applied with (created through the
        // API). Those can change without any document changing, so the next rescan tries again.
        this.#fingerprint = undefined;
        this.#fail(err, 'invalid', result);
        return;
      }
      const located = listenProblem(err, { config: result.config, generation });
      const error = importerErrors.applyFailed(generation, err);
      this.#fail(error, 'apply_failed', result, located === undefined ? undefined : [located]);
      return;
    }
    this.#configuration = result.config;
    this.#state.succeeded(info);
    this.#log.info(info, 'configuration imported');
    this.#logOverrides(result.overrides);
    this.#options.onStatus?.(this.status());
  }

  /** Logs each document object hidden by a later document's, once while it stays so. */
  #logOverrides(overrides: ImportedConfiguration['overrides']): void {
    const now = new Set<string>();
    for (const o of overrides) {
      const key = JSON.stringify(o);
      now.add(key);
      if (this.#loggedOverrides.has(key)) continue;
      this.#log.info(
        { ...o },
        `${o.collection} "${o.name}" of ${o.file} overrides the one of the same name in ${o.overridden}`,
      );
    }
    this.#loggedOverrides = now;
  }

  #fail(
    error: PosternError,
    result: 'invalid' | 'apply_failed',
    files?: { readonly files: readonly string[]; readonly referencedFiles: readonly string[] },
    located?: readonly ConfigProblem[],
  ): void {
    const problems = located ?? problemsOf(error);
    if (this.#state.failed(error, problems, result, files)) {
      this.#log.error({ code: error.code, problems }, error.message);
    }
    this.#options.onStatus?.(this.status());
  }
}

/** The problems an error carries, or one problem holding its message. */
function problemsOf(error: PosternError): readonly ConfigProblem[] {
  if (error instanceof ConfigProblemsError) return error.problems;
  if (error.cause instanceof ConfigProblemsError) return error.cause.problems;
  return [{ file: '.', line: 0, column: 0, path: '', message: error.message, code: error.code }];
}
