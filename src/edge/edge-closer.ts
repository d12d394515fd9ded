import type { Logger } from 'pino';

/**
 * Undoes a partial start: parts are added as they open and, if a later step fails, closed in
 * reverse order. A failing close is logged and the rest still run, so the error that stopped
 * the start is the one the caller sees.
 */
export class Closer {
  readonly #log: Logger;
  readonly #parts: { readonly name: string; readonly close: () => unknown }[] = [];

  constructor(log: Logger) {
    this.#log = log;
  }

  /** Records an opened part; `close` runs if the start fails after this point. */
  add(name: string, close: () => unknown): void {
    this.#parts.push({ name, close });
  }

  /** Runs `step`; when it throws, closes every part added so far and rethrows. */
  async guard<T>(step: () => Promise<T>): Promise<T> {
    try {
      return await step();
    } catch (err) {
      await this.closeAll();
      throw err;
    }
  }

  /** Closes every part in reverse order of adding, at most once. */
  async closeAll(): Promise<void> {
    for (const part of this.#parts.splice(0).reverse()) {
      try {
        await part.close();
      } catch (err) {
        this.#log.warn({ part: part.name, err }, 'closing a part of a failed edge start failed');
      }
    }
  }
}
