/** Closes one thing the demo started; may be async. */
export type DemoCloser = () => Promise<void> | void;

/**
 * What the demo started (sample apps, edge, connector, its temporary directory), closed in
 * reverse order exactly once: after a normal stop, when start-up failed half-way, or when a
 * signal came during start-up. Something registered after {@link close} ran (start-up still
 * in flight when the signal came) is closed at once.
 */
export class DemoResources {
  readonly #closers: DemoCloser[] = [];
  readonly #onError: (err: unknown) => void;
  #closed = false;
  #closing: Promise<void> | undefined;

  constructor(options: { readonly onError?: (err: unknown) => void } = {}) {
    this.#onError = options.onError ?? (() => undefined);
  }

  /** Registers `closer`; runs it now when the demo is already closing or closed. */
  add(closer: DemoCloser): void {
    if (this.#closed) void this.#run(closer);
    else this.#closers.push(closer);
  }

  /** Closes everything registered, last first; a closer that fails does not stop the others. */
  close(): Promise<void> {
    this.#closed = true;
    this.#closing ??= (async () => {
      for (let closer = this.#closers.pop(); closer; closer = this.#closers.pop()) {
        await this.#run(closer);
      }
    })();
    return this.#closing;
  }

  async #run(closer: DemoCloser): Promise<void> {
    try {
      await closer();
    } catch (err) {
      this.#onError(err);
    }
  }
}
