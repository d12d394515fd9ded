import { X509Certificate } from 'node:crypto';
import type { Logger } from 'pino';
import { generateKeyPairAndCsr, renewalTime } from '../pki/index.js';
import type { EdgeTunnel } from './edge-tunnel.js';
import type { IdentityStore } from './identity-store.js';

/** How long to wait before trying again after a renewal failed. */
const RETRY_AFTER_FAILURE_MS = 60_000;

/** What the renewal timer needs. */
export interface RenewalTimerOptions {
  readonly logger: Logger;
  /** The certificate in use now (PEM): its validity sets the renewal time. */
  readonly certPem: () => string;
  /** Renews now; rejects when it failed (then retried after a minute). */
  readonly renew: () => Promise<void>;
}

/**
 * When the connector renews its certificate: at the renewal time of the certificate in use
 * (see `renewalTime`), retrying a minute after a failure.
 */
export class RenewalTimer {
  readonly #o: RenewalTimerOptions;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: RenewalTimerOptions) {
    this.#o = options;
  }

  /** True once a renewal was scheduled, until {@link reset}; {@link cancel} keeps it true. */
  get scheduled(): boolean {
    return this.#timer !== undefined;
  }

  /** Schedules the renewal of the current certificate, replacing one scheduled before. */
  schedule(): void {
    if (this.#timer) clearTimeout(this.#timer);
    const cert = new X509Certificate(this.#o.certPem());
    const at = renewalTime({
      notBefore: new Date(cert.validFrom),
      notAfter: new Date(cert.validTo),
    }).getTime();
    const wait = Math.min(Math.max(at - Date.now(), 1000), 2 ** 31 - 1);
    this.#timer = setTimeout(
      () =>
        void this.#o.renew().catch((err: unknown) => {
          this.#o.logger.warn(
            { err: (err as Error).message },
            'certificate renewal failed; will retry',
          );
          this.#timer = setTimeout(() => this.schedule(), RETRY_AFTER_FAILURE_MS);
        }),
      wait,
    );
    this.#timer.unref();
  }

  /** Stops the pending renewal for good (the connector stops). */
  cancel(): void {
    if (this.#timer) clearTimeout(this.#timer);
  }

  /** Drops the pending renewal so that the next tunnel up schedules one (a new certificate). */
  reset(): void {
    this.cancel();
    this.#timer = undefined;
  }
}

/** Renews over `tunnel` with a new key pair and stores the result; returns the new key and certificate. */
export async function renewOverTunnel(
  tunnel: EdgeTunnel,
  store: IdentityStore,
): Promise<{ keyPem: string; certPem: string }> {
  const { keyPem, csrPem } = await generateKeyPairAndCsr({ commonName: 'postern-connector' });
  const certPem = await tunnel.renew(csrPem);
  await store.saveRenewed(keyPem, certPem);
  return { keyPem, certPem };
}
