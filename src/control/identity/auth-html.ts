import type { AccessGateReason } from '../../traffic/index.js';

/** A response the identity layer sends itself (redirects, pages, JSON). */
export interface AuthResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | readonly string[]>>;
  readonly body: string;
  /**
   * Why the gate answered, for the request's record, where the status alone would mislead (a
   * device login's poll still waiting, a logout, a refused form); else the edge infers it from
   * the status.
   */
  readonly reason?: AccessGateReason | undefined;
}

const SECURITY_HEADERS = {
  'cache-control': 'no-store',
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
  'referrer-policy': 'no-referrer',
} as const;

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** A small HTML page with a title, paragraphs (already escaped) and the security headers. */
export function htmlPage(
  status: number,
  title: string,
  paragraphs: readonly string[],
  extraHeaders: Readonly<Record<string, string | readonly string[]>> = {},
): AuthResponse {
  const body =
    `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title>` +
    '<style>body{font-family:system-ui,sans-serif;max-width:40em;margin:4em auto;padding:0 1em;color:#222}' +
    'code{background:#f2f2f2;padding:0 .2em}</style></head><body>' +
    `<h1>${escapeHtml(title)}</h1>${paragraphs.map((p) => `<p>${p}</p>`).join('')}</body></html>\n`;
  return {
    status,
    headers: { 'content-type': 'text/html; charset=utf-8', ...SECURITY_HEADERS, ...extraHeaders },
    body,
  };
}

/**
 * The page that refuses a form of the edge's own pages that is stale, forged or malformed (a
 * token that does not match, its fields in the URL). Recorded as `form_refused`: nobody was
 * denied access and no login failed, the form was not one the page sent.
 */
export function formRefusedPage(status: 400 | 403, paragraphs: readonly string[]): AuthResponse {
  return { ...htmlPage(status, 'Form refused', paragraphs), reason: 'form_refused' };
}

/** The 403 page that refuses a form posted from another site, recorded as `cross_site_refused`. */
export function crossSiteRefusedPage(paragraphs: readonly string[]): AuthResponse {
  return {
    ...htmlPage(403, 'Cross-site request refused', paragraphs),
    reason: 'cross_site_refused',
  };
}

/** A 302 to `location`, never cached. */
export function redirect(
  location: string,
  extraHeaders: Readonly<Record<string, string | readonly string[]>> = {},
): AuthResponse {
  return {
    status: 302,
    headers: { location, 'cache-control': 'no-store', ...extraHeaders },
    body: '',
  };
}

/** A JSON response (the JWK set). */
export function jsonResponse(status: number, value: unknown, cacheSeconds = 0): AuthResponse {
  return {
    status,
    headers: {
      'content-type': 'application/json',
      'cache-control': cacheSeconds > 0 ? `public, max-age=${cacheSeconds}` : 'no-store',
    },
    body: JSON.stringify(value),
  };
}

/**
 * The page of a login that failed on the edge's side (the provider unreachable, a refused code):
 * the error code and a reference the edge's log line carries too, no addresses or operator advice.
 */
export function loginFailedPage(code: string, reference: string): AuthResponse {
  return htmlPage(code === 'POSTERN_ERR_LOGIN_FAILED' ? 401 : 502, 'Login failed', [
    `The login could not be completed (<code>${escapeHtml(code)}</code>). Try again later.`,
    `If it keeps failing, give your administrator this reference: <code>${escapeHtml(reference)}</code>.`,
  ]);
}

/** What the 403 page tells a denied user. */
export interface DeniedFacts {
  readonly user: string;
  readonly groups: readonly string[];
  readonly virtualServer: string;
  readonly rule: string | undefined;
  readonly reason: string;
}

/** The page a logged-in user sees when the access policy denies them. */
export function deniedPage(facts: DeniedFacts): AuthResponse {
  const e = escapeHtml;
  const which =
    facts.rule === undefined
      ? 'No access rule allows you here, so access is denied by default.'
      : `Access was denied by the rule <code>${e(facts.rule)}</code>.`;
  const groups =
    facts.groups.length > 0 ? facts.groups.map((g) => `<code>${e(g)}</code>`).join(', ') : 'none';
  return htmlPage(403, 'Access denied', [
    `You are logged in as <code>${e(facts.user)}</code> (groups: ${groups}), but you may not use <code>${e(facts.virtualServer)}</code>.`,
    // The default-deny reason says what `which` already says; a rule's reason adds to it.
    facts.rule === undefined ? which : `${which} (${e(facts.reason)})`,
    'To get access, ask your Postern administrator to add you, or one of your groups, to an ' +
      `<code>allow</code> access policy for the virtual server <code>${e(facts.virtualServer)}</code>` +
      (facts.rule === undefined ? '.' : ' placed before that rule.'),
    '<a href="/.postern/auth/logout">Log out</a> to sign in as someone else.',
  ]);
}
