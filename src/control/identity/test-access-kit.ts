// For tests of the identity layer's access gate: two users, a stand-in for their identity
// provider, and the virtual server `wiki` that requires a login, where only group eng may go.
import type { Configuration, IdentityProvider, VirtualServer } from '../../config/index.js';
import type { AuthorizationChecks, OidcClient } from './oidc-client.js';

export const TEST_USERS = {
  alice: { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' },
  bob: { subject: 'bob', email: 'bob@example.com', groups: ['sales'], idp: 'corp' },
} as const;

const HOUR = 3_600_000;

/** Options of {@link fakeProvider}. */
export interface FakeProviderOptions {
  /** Receives the checks of each code redeemed. */
  readonly redeemed?: AuthorizationChecks[];
  /** While `enabled`, the provider publishes an end_session_endpoint (RP-initiated logout). */
  readonly logout?: { readonly enabled: boolean };
}

/**
 * Stands in for the provider: the authorization code names the user (`alice`, `bob`; `alice-sso`
 * is alice on a provider session that began 23 h before 2026-01-01).
 */
export function fakeProvider(o: FakeProviderOptions = {}): OidcClient {
  const logout = o.logout ?? { enabled: false };
  const client = {
    authorizationUrl: (checks: AuthorizationChecks) => {
      const url = new URL('https://idp.example/authorize');
      url.searchParams.set('state', checks.state);
      url.searchParams.set('redirect_uri', checks.redirectUri);
      return Promise.resolve(url);
    },
    endSessionUrl: (options: { postLogoutRedirectUri?: string; idTokenHint?: string }) => {
      if (!logout.enabled) return undefined;
      const url = new URL('https://idp.example/logout');
      url.searchParams.set('client_id', 'postern');
      if (options.idTokenHint !== undefined)
        url.searchParams.set('id_token_hint', options.idTokenHint);
      if (options.postLogoutRedirectUri !== undefined) {
        url.searchParams.set('post_logout_redirect_uri', options.postLogoutRedirectUri);
      }
      return url;
    },
    redeem: (query: URLSearchParams, checks: AuthorizationChecks) => {
      o.redeemed?.push(checks);
      if (query.get('code') === 'alice-sso') {
        return Promise.resolve({
          ...TEST_USERS.alice,
          authTime: Date.UTC(2026, 0, 1) - 23 * HOUR,
        });
      }
      const user = TEST_USERS[query.get('code') as keyof typeof TEST_USERS];
      // As OidcClient: the ID token only from a provider with a logout that takes it.
      const idToken = logout.enabled ? { idToken: `id-token-of-${user?.subject}` } : {};
      return user
        ? Promise.resolve({ ...user, ...idToken })
        : Promise.reject(new Error('bad code'));
    },
  };
  return client as unknown as OidcClient;
}

/** The https virtual server `wiki`, login required with provider `corp`. */
export function wikiServer(o: { identityHeaders: boolean; assertion: boolean }): VirtualServer {
  return {
    name: 'wiki',
    protocol: 'https',
    access: {
      login: 'required',
      identity_provider: 'corp',
      idle_timeout_ms: 1_800_000,
      reauthentication_timeout_ms: 86_400_000,
      identity_headers: o.identityHeaders,
      assertion: o.assertion,
    },
  } as unknown as VirtualServer;
}

/** Provider `corp`; group eng may use any server, everybody else is denied `wiki`. */
export const wikiConfig = {
  identity_providers: [{ name: 'corp' } as IdentityProvider],
  access_policies: [
    { name: 'eng', action: 'allow', conditions: { groups: ['eng'] } },
    { name: 'nobody-else', action: 'deny', conditions: { virtual_servers: ['wiki'] } },
  ],
} as unknown as Configuration;
