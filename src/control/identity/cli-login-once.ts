import { secretKey } from './browser-session.js';
import { MemorySessionStore, type SessionStore } from './session-store.js';

/** Time past a one-time id's own expiry that its marker stays: the 30 s clock tolerance and more. */
const MARGIN_MS = 60_000;

/**
 * One-time ids of the CLI login (codes, confirmation forms), kept in the store of pending logins.
 * The edge marks an id when it issues it; using the id takes the mark, and only the first taker
 * gets it. With the shared store (every edge of an HA set), a code redeemed on one edge is spent
 * on all; taking is one statement there (DELETE … RETURNING), so two edges at once cannot both
 * win. The store keeps only a hash of the id and sweeps the mark when it lapses.
 */
export class OneTimeIds {
  readonly #store: SessionStore;

  /** `store` defaults to this process's memory (one edge). */
  constructor(store: SessionStore = new MemorySessionStore()) {
    this.#store = store;
  }

  /** Marks `id` usable once, until `expiresAt` (ms since the epoch) and a margin. */
  async issue(id: string, expiresAt: number): Promise<void> {
    // A pending login record that no callback can use: it has no nonce, verifier or redirect.
    await this.#store.putPendingLogin({
      key: markKey(id),
      kind: 'cli',
      identityProvider: '',
      nonce: '',
      codeVerifier: '',
      redirectUri: '',
      returnTo: '',
      expiresAt: expiresAt + MARGIN_MS,
    });
  }

  /** Uses `id`: true the first time after {@link issue}, false after that or without a mark. */
  async use(id: string): Promise<boolean> {
    if (id === '') return false;
    return (await this.#store.takePendingLogin(markKey(id))) !== undefined;
  }
}

/** The store key of a one-time id, prefixed apart from the states the edge draws (random base64url). */
function markKey(id: string): string {
  return secretKey(`postern-cli-once:${id}`);
}
