import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { connectorErrors } from './errors.js';

/** Everything a connector keeps after enrollment, so restarts consume no key usage. */
export interface ConnectorIdentityFiles {
  readonly connectorId: string;
  readonly group: string;
  readonly edgeAddress: string;
  readonly ephemeral: boolean;
  readonly keyPem: string;
  readonly certPem: string;
  readonly caPem: string;
}

const FILES = { meta: 'identity.json', key: 'connector.key', cert: 'connector.crt', ca: 'ca.crt' };

/** Reads and writes a connector's identity in its state directory (private key mode 0600). */
export class IdentityStore {
  readonly #dir: string;

  constructor(dir: string) {
    this.#dir = dir;
  }

  /** The stored identity, or undefined when the connector has not enrolled yet. */
  async load(): Promise<ConnectorIdentityFiles | undefined> {
    let metaText: string;
    try {
      metaText = await readFile(join(this.#dir, FILES.meta), 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw connectorErrors.stateUnreadable(this.#dir, err);
    }
    try {
      const meta = JSON.parse(metaText) as Omit<
        ConnectorIdentityFiles,
        'keyPem' | 'certPem' | 'caPem'
      >;
      const [keyPem, certPem, caPem] = await Promise.all(
        [FILES.key, FILES.cert, FILES.ca].map((f) => readFile(join(this.#dir, f), 'utf8')),
      );
      return { ...meta, keyPem: keyPem!, certPem: certPem!, caPem: caPem! };
    } catch (err) {
      throw connectorErrors.stateUnreadable(this.#dir, err);
    }
  }

  /** Stores a whole identity; each file is replaced atomically. */
  async save(identity: ConnectorIdentityFiles): Promise<void> {
    await mkdir(this.#dir, { recursive: true, mode: 0o700 });
    const { keyPem, certPem, caPem, ...meta } = identity;
    await this.#write(FILES.key, keyPem, 0o600);
    await this.#write(FILES.cert, certPem, 0o644);
    await this.#write(FILES.ca, caPem, 0o644);
    await this.#write(FILES.meta, `${JSON.stringify(meta, null, 2)}\n`, 0o644);
  }

  /** Replaces the key and certificate after a renewal. */
  async saveRenewed(keyPem: string, certPem: string): Promise<void> {
    await this.#write(FILES.key, keyPem, 0o600);
    await this.#write(FILES.cert, certPem, 0o644);
  }

  /**
   * Deletes the stored identity (an ephemeral connector that removed itself at the edge), so
   * the next start enrolls again. The metadata goes first: a half-cleared directory reads as
   * not enrolled.
   */
  async clear(): Promise<void> {
    for (const name of [FILES.meta, FILES.key, FILES.cert, FILES.ca])
      await rm(join(this.#dir, name), { force: true });
  }

  async #write(name: string, content: string, mode: number): Promise<void> {
    const path = join(this.#dir, name);
    const tmp = `${path}.tmp-${process.pid}`;
    await writeFile(tmp, content, { mode });
    await rename(tmp, path);
  }
}
