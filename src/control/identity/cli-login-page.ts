import { escapeHtml, htmlPage, type AuthResponse } from './auth-html.js';

/** Cookie binding a CLI login's confirmation form to the browser it was shown to. */
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

/** The Set-Cookie of the confirmation binding (SameSite=Strict: only the edge's own form sends it). */
export function confirmCookie(value: string, maxAgeSeconds: number): string {
  return `${CLI_CONFIRM_COOKIE}=${value}; Path=/; Secure; HttpOnly; SameSite=Strict; Max-Age=${maxAgeSeconds}`;
}
