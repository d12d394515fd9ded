import type { IdentityProvider } from '../../config/index.js';
import { identityErrors } from './errors.js';
import { OidcClient } from './oidc-client.js';

interface Entry {
  readonly spec: string;
  readonly client: Promise<OidcClient>;
}

/**
 * The configured identity providers, each discovered on first use and cached until its
 * configuration changes. A failed discovery is not cached: the next login tries again.
 */
export class IdentityProviders {
  #providers = new Map<string, IdentityProvider>();
  readonly #clients = new Map<string, Entry>();
  readonly #discover: (idp: IdentityProvider) => Promise<OidcClient>;

  constructor(options: { discover?: (idp: IdentityProvider) => Promise<OidcClient> } = {}) {
    this.#discover = options.discover ?? ((idp) => OidcClient.discover(idp));
  }

  /** Replaces the provider list (each configuration generation). */
  update(providers: readonly IdentityProvider[]): void {
    this.#providers = new Map(providers.map((p) => [p.name, p]));
    for (const name of this.#clients.keys()) {
      if (!this.#providers.has(name)) this.#clients.delete(name);
    }
  }

  /** Names of the configured providers. */
  names(): string[] {
    return [...this.#providers.keys()];
  }

  /** The discovered client of provider `name`; throws POSTERN_ERR_IDP_UNKNOWN or _UNAVAILABLE. */
  client(name: string): Promise<OidcClient> {
    const idp = this.#providers.get(name);
    if (!idp) return Promise.reject(identityErrors.idpUnknown(name));
    const spec = JSON.stringify(idp);
    const cached = this.#clients.get(name);
    if (cached?.spec === spec) return cached.client;
    const client = this.#discover(idp);
    this.#clients.set(name, { spec, client });
    client.catch(() => {
      if (this.#clients.get(name)?.client === client) this.#clients.delete(name);
    });
    return client;
  }
}
