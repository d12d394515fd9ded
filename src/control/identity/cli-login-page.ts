import { escapeHtml, htmlPage, type AuthResponse } from './auth-html.js';

/**
 * Prefix of the cookies binding a CLI login's confirmation form to the browser it was shown to.
 * Each login has its own cookie (the prefix and the confirmation's id), so two `postern login`
 * runs confirmed in one browser at once do not replace each other's binding.
 */
export const CLI_CONFIRM_COOKIE = '__Host-postern-cli-confirm';

/** What the confirmation page of `postern login` says. */
export interface CliConfirmFacts {
  /** Who is signing in (email or subject). */
  readonly user: string;
  /** The CLI's loopback callback URL. */
  readonly callback: string;
  /** Lifetime of the token the CLI asks for. */
  readonly tokenTtlMs: number;
  /** The signed confirmation the form sends back. */
  readonly confirm: string;
  /** Where the form posts to. */
  readonly action: string;
}

/** A lifetime in words: "8 hours", "90 minutes", "7 days". */
export function lifetimeText(ms: number): string {
  const plural = (n: number, unit: string): string => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (ms % 86_400_000 === 0) return plural(ms / 86_400_000, 'day');
  if (ms % 3_600_000 === 0) return plural(ms / 3_600_000, 'hour');
  return plural(Math.round(ms / 60_000), 'minute');
}

/**
 * The page asking the signed-in user to allow or deny a command-line login, as the device
 * page does: a link from someone else then needs a click on a page that says what it grants.
 */
export function cliConfirmPage(
  facts: CliConfirmFacts,
  headers: Readonly<Record<string, string | readonly string[]>>,
): AuthResponse {
  const e = escapeHtml;
  const callback = new URL(facts.callback);
  const hidden = `<input type="hidden" name="confirm" value="${e(facts.confirm)}">`;
  const button = (value: string, label: string): string =>
    `<form method="post" action="${e(facts.action)}" style="display:inline">${hidden}` +
    `<button type="submit" name="decision" value="${value}" id="${value}">${label}</button></form>`;
  return htmlPage(
    200,
    'Allow a command-line login?',
    [
      `You are signed in as <code>${e(facts.user)}</code>.`,
      `A command-line tool on this computer (listening on <code>${e(callback.host)}</code>) asks ` +
        `for a token in your name, valid for ${lifetimeText(facts.tokenTtlMs)}: with it, it ` +
        'reaches everything you may reach through this edge.',
      'Allow only if you ran <code>postern login</code> yourself just now. If someone sent you ' +
        'this link, deny it.',
      `${button('allow', 'Allow')} ${button('deny', 'Deny')}`,
    ],
    headers,
  );
}

/** The name of the confirmation cookie of the login whose confirmation has id `loginId`. */
export function confirmCookieName(loginId: string): string {
  return `${CLI_CONFIRM_COOKIE}-${loginId}`;
}

/**
 * The Set-Cookie of a login's confirmation binding. SameSite=Lax, as the login cookies: a
 * cross-site POST never carries it (the form is refused from other sites anyway), and the
 * provider's redirect back to the callback (a cross-site navigation) does, so the callback sees
 * the confirmations this browser already holds and can cap them.
 */
export function confirmCookie(loginId: string, value: string, maxAgeSeconds: number): string {
  return `${confirmCookieName(loginId)}=${value}; Path=/; Secure; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}`;
}

/** Confirmations one browser may hold at once (one cookie each); older ones are dropped. */
export const MAX_CONFIRM_COOKIES = 5;

/**
 * The confirmation cookies to drop so that, with a new one, a browser holds at most
 * {@link MAX_CONFIRM_COOKIES} (abandoned `postern login` runs would pile up otherwise). Browsers
 * send cookies of the same path oldest first (RFC 6265 §5.4), so the first ones go.
 */
export function oldestConfirmCookies(header: string | undefined): string[] {
  const names = new Set<string>();
  for (const part of header?.split(';') ?? []) {
    const name = part.slice(0, Math.max(0, part.indexOf('='))).trim();
    if (name.startsWith(`${CLI_CONFIRM_COOKIE}-`)) names.add(name);
  }
  return [...names].slice(0, Math.max(0, names.size - MAX_CONFIRM_COOKIES + 1));
}
