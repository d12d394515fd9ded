import type { ConfigProblem } from '../../config/index.js';
import type { Clock, PosternError } from '../../core/index.js';
import type { ImporterMetrics } from './importer-metrics.js';

/** The importer's state as `GET /api/v1/import/status` shows it. */
export interface ImportStatus {
  /** The generation running now; 0 until a configuration was applied. */
  readonly generation: number;
  /** True when the last import applied (or nothing was imported yet). */
  readonly ok: boolean;
  /** RFC 3339 time of the last applied import, or null. */
  readonly lastSuccessAt: string | null;
  /** RFC 3339 time of the last import of changed documents, applied or not, or null. */
  readonly lastAttemptAt: string | null;
  /** The POSTERN_ERR_* code of the last failure, or null when the last import applied. */
  readonly code: string | null;
  /** Why the last import failed, each with file, line, column and path; empty when ok. */
  readonly problems: readonly ConfigProblem[];
  /** Documents of the last import, relative to the configuration directory. */
  readonly files: readonly string[];
  /** Files the last import read through `valueFrom`. */
  readonly referencedFiles: readonly string[];
}

/** Where a failure's files came from, when the tree could be read at all. */
interface FileLists {
  readonly files: readonly string[];
  readonly referencedFiles: readonly string[];
}

/** Keeps the import status and mirrors it into metrics. */
export class ImportState {
  #status: ImportStatus = {
    generation: 0,
    ok: true,
    lastSuccessAt: null,
    lastAttemptAt: null,
    code: null,
    problems: [],
    files: [],
    referencedFiles: [],
  };
  #lastError: PosternError | undefined;
  #loggedKey: string | undefined;

  constructor(
    private readonly clock: Clock,
    private readonly metrics: ImporterMetrics | undefined,
  ) {
    metrics?.ok.set(1);
  }

  get generation(): number {
    return this.#status.generation;
  }

  get ok(): boolean {
    return this.#status.ok;
  }

  /** The error of the last failed import, if the last import failed. */
  get lastError(): PosternError | undefined {
    return this.#status.ok ? undefined : this.#lastError;
  }

  snapshot(): ImportStatus {
    return this.#status;
  }

  succeeded(info: FileLists & { readonly generation: number }): void {
    const now = new Date(this.clock.now()).toISOString();
    this.#status = Object.freeze({
      generation: info.generation,
      ok: true,
      lastSuccessAt: now,
      lastAttemptAt: now,
      code: null,
      problems: [],
      files: info.files,
      referencedFiles: info.referencedFiles,
    });
    this.#lastError = undefined;
    this.#loggedKey = undefined;
    this.metrics?.generation.set(info.generation);
    this.metrics?.ok.set(1);
    this.metrics?.problems.set(0);
    this.metrics?.lastSuccess.set(this.clock.now() / 1000);
    this.metrics?.imports.inc({ result: 'applied' });
  }

  /** Records a failure; returns true when it differs from the last one logged (log it). */
  failed(
    error: PosternError,
    problems: readonly ConfigProblem[],
    result: 'invalid' | 'apply_failed',
    files: FileLists | undefined,
  ): boolean {
    this.#status = Object.freeze({
      ...this.#status,
      ok: false,
      lastAttemptAt: new Date(this.clock.now()).toISOString(),
      code: error.code,
      problems,
      files: files?.files ?? this.#status.files,
      referencedFiles: files?.referencedFiles ?? this.#status.referencedFiles,
    });
    this.#lastError = error;
    this.metrics?.ok.set(0);
    this.metrics?.problems.set(problems.length);
    this.metrics?.imports.inc({ result });
    const key = JSON.stringify([error.code, problems]);
    const fresh = key !== this.#loggedKey;
    this.#loggedKey = key;
    return fresh;
  }
}
