import { escapeHtml, htmlPage, type AuthResponse } from './auth-html.js';

/** Query parameter naming the identity provider a CLI or device login was started with. */
export const PROVIDER_PARAM = 'idp';

/** What picks the provider of a CLI or device login. */
export interface ProviderChoice {
  /** `--cli-identity-provider`: the only provider CLI logins may use, when set. */
  readonly configured: string | undefined;
  /** The providers the edge has. */
  readonly names: readonly string[];
  /** The path and query of the request that starts the login (its `idp` parameter chooses). */
  readonly target: string;
}

/**
 * The provider a CLI or device login uses, or the page that says why there is none yet: the
 * configured one, else the only one, else the one the user picked on the choice page (a link per
 * provider back to the same request with `idp=NAME`). Only a configured provider can be picked.
 */
export function chooseProvider(choice: ProviderChoice): string | AuthResponse {
  if (choice.configured !== undefined) return choice.configured;
  const { names } = choice;
  if (names.length === 1 && names[0] !== undefined) return names[0];
  if (names.length === 0) {
    return htmlPage(503, 'No identity provider for the CLI', [
      'This edge has no identity provider. Add one (<code>identity_providers</code> in a configuration document, or <code>POST /api/v1/identity-providers</code>).',
    ]);
  }
  const url = new URL(choice.target, 'http://edge.invalid');
  const picked = url.searchParams.get(PROVIDER_PARAM);
  if (picked !== null && names.includes(picked)) return picked;
  return providerChoicePage(names, (name) => {
    url.searchParams.set(PROVIDER_PARAM, name);
    return `${url.pathname}${url.search}`;
  });
}

/** The page listing the edge's identity providers, each a link that starts the login there. */
export function providerChoicePage(
  names: readonly string[],
  linkOf: (name: string) => string,
): AuthResponse {
  const e = escapeHtml;
  return htmlPage(200, 'Choose how to sign in', [
    'This edge has several identity providers. Sign in with:',
    ...[...names]
      .sort()
      .map(
        (name) =>
          `<a href="${e(linkOf(name))}" id="idp-${e(name)}" data-idp="${e(name)}">${e(name)}</a>`,
      ),
  ]);
}
