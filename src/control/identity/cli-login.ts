import { randomBytes } from 'node:crypto';
import { isPosternError } from '../../core/index.js';
import {
  crossSiteRefusedPage,
  formRefusedPage,
  htmlPage,
  jsonResponse,
  redirect,
  type AuthResponse,
} from './auth-html.js';
import { readCookie } from './browser-session.js';
import { chooseProvider } from './cli-login-choice.js';
import { CODE_CHALLENGE, CliLoginCodes, s256 } from './cli-login-codes.js';
import { OneTimeIds } from './cli-login-once.js';
import {
  CLI_CONFIRM_COOKIE,
  cliConfirmPage,
  confirmCookie,
  confirmCookieName,
  oldestConfirmCookies,
} from './cli-login-page.js';
import { crossSite, sameToken } from './device-form-checks.js';
import { readForm, type FormRequest } from './form-body.js';
import type { IdentityProviders } from './identity-providers.js';
import { badHostPage, validHost, type LoginRequest, type ProviderLogin } from './provider-login.js';
import type { PendingLogin } from './session-store.js';
import type { UserIdentity } from './user-identity.js';
import type { UserTokenAuthority, VerifiedToken } from './user-token.js';

/** What the CLI's logins need from the auth pages. */
export interface CliLoginOptions {
  readonly authority: UserTokenAuthority;
  readonly providers: IdentityProviders;
  readonly logins: ProviderLogin;
  /**
   * Provider `postern login` uses; default the only one configured, or with several the one the
   * user picks on the edge's choice page.
   */
  readonly identityProvider?: string | undefined;
  /** Lifetime of the token `postern login` stores; default 8 h. */
  readonly tokenTtlMs?: number | undefined;
  /** How long the confirmation page may wait for Allow or Deny; default 10 min. */
  readonly confirmTtlMs?: number | undefined;
  /** Lifetime of the code sent to the callback (plus 30 s clock tolerance); default 30 s. */
  readonly codeTtlMs?: number | undefined;
}

/** A request to the CLI login path, as the auth pages pass it. */
export interface CliLoginRequest extends FormRequest {
  readonly method: string;
  readonly host: string | undefined;
  readonly secure: boolean;
}

/** Path of the CLI login: the start (GET), the confirmation form and the code exchange (POST). */
export const CLI_LOGIN_PATH = '/.postern/cli/login';
/** Audience of the signed confirmation the Allow/Deny form carries. */
const CONFIRM_AUDIENCE = 'postern:cli-login-confirm';
const LOOPBACK_CALLBACK = /^http:\/\/(?:127\.0\.0\.1|localhost|\[::1\]):\d{1,5}\/[^\s#]*$/;
const CLIENT_STATE = /^[A-Za-z0-9_-]{16,256}$/;
/** The id of a confirmation (its `jti`), also the suffix of its cookie's name. */
const CONFIRM_ID = /^[A-Za-z0-9_-]{22}$/;
const FORM_LIMIT_BYTES = 16 * 1024;

/**
 * The logins of `postern login`, at the provider chosen for the CLI (or picked by the user when
 * the edge has several and none is chosen): the browser login
 * for the CLI's loopback callback (and its `?check=1` dry run), and the browser login that
 * approves a `postern login --device`. The browser login follows RFC 8252: after the provider,
 * the user confirms on an Allow/Deny page; Allow sends a one-time code (never the token) to the
 * callback, which the CLI exchanges here with its PKCE verifier for the token.
 */
export class CliLogin {
  readonly #o: CliLoginOptions;
  readonly #codes: CliLoginCodes;
  /** Codes and confirmations, each usable once on every edge sharing the login store. */
  readonly #once: OneTimeIds;

  constructor(options: CliLoginOptions) {
    this.#o = options;
    this.#once = new OneTimeIds(options.logins.store);
    this.#codes = new CliLoginCodes({ ...options, once: this.#once });
  }

  /**
   * Answers the CLI login path: GET starts the login of `postern login` (`callback`, `state`,
   * `code_challenge` with `code_challenge_method=S256` in the query) or checks it could
   * (`check=1`); POST is the confirmation form or the CLI's code exchange.
   */
  async start(req: CliLoginRequest, query: URLSearchParams): Promise<AuthResponse> {
    if (req.method === 'POST') return this.#post(req, query);
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      return htmlPage(405, 'Method not allowed', ['Use GET or POST.'], { allow: 'GET, POST' });
    }
    const callback = query.get('callback') ?? '';
    const clientState = query.get('state') ?? '';
    if (!LOOPBACK_CALLBACK.test(callback) || !CLIENT_STATE.test(clientState)) {
      return htmlPage(400, 'Bad login request', [
        'Start the login with <code>postern login --edge &lt;url&gt;</code>; the callback must be a loopback http URL.',
      ]);
    }
    const challenge = query.get('code_challenge') ?? '';
    if (!CODE_CHALLENGE.test(challenge) || query.get('code_challenge_method') !== 'S256') {
      return htmlPage(400, 'Bad login request', [
        'The login must carry a PKCE <code>code_challenge</code> (S256): update the <code>postern</code> command and run <code>postern login</code> again.',
      ]);
    }
    const idp = this.#provider(`${CLI_LOGIN_PATH}?${query.toString()}`);
    if (query.get('check') === '1') return this.#check(req, idp);
    if (typeof idp !== 'string') return idp;
    return this.#o.logins.start(req, {
      kind: 'cli',
      identityProvider: idp,
      returnTo: callback,
      // The pending login has one field for the CLI: its state and challenge travel together.
      clientState: `${clientState}.${challenge}`,
    });
  }

  /**
   * Sends the browser approving a device login to the CLI's provider, then to `returnTo`; with
   * several providers and none chosen, first to the choice page (links back to `req.target`).
   */
  async startDevice(
    req: Pick<LoginRequest, 'host' | 'secure'> & { readonly target?: string | undefined },
    returnTo: string,
  ): Promise<AuthResponse> {
    const idp = this.#provider(req.target ?? returnTo);
    if (typeof idp !== 'string') return idp;
    return this.#o.logins.start(req, { kind: 'device', identityProvider: idp, returnTo });
  }

  /**
   * Shows a redeemed `cli` login's user the Allow/Deny page. Its form carries a signed
   * confirmation (who, the callback, the CLI's state and challenge) bound to a cookie of this
   * browser, so no other browser or site can send it. The cookie is this login's own (named
   * after the confirmation's id): other logins confirmed in the same browser keep theirs, up to
   * five (the oldest of `cookies.header`, the callback's Cookie field, are
   * dropped). `cookies.clear` is the Set-Cookie that clears the provider login's cookie.
   */
  async finish(
    pending: PendingLogin,
    identity: UserIdentity,
    cookies: { readonly clear: string; readonly header?: string | undefined },
  ): Promise<AuthResponse> {
    const [state, challenge] = (pending.clientState ?? '').split('.');
    if (!state || !challenge) {
      return htmlPage(400, 'Login expired', [
        'This login was started by an older edge. Run <code>postern login</code> again.',
      ]);
    }
    const binding = randomBytes(32).toString('base64url');
    const ttlMs = this.#o.confirmTtlMs ?? 600_000;
    const id = randomBytes(16).toString('base64url');
    const { token: confirm, expiresAt } = await this.#o.authority.issue(identity, {
      audience: CONFIRM_AUDIENCE,
      ttlMs,
      claims: {
        cb: pending.returnTo,
        st: state,
        cc: challenge,
        bind: s256(binding),
        jti: id,
      },
    });
    await this.#once.issue(id, expiresAt);
    return cliConfirmPage(
      {
        user: identity.email ?? identity.subject,
        callback: pending.returnTo,
        tokenTtlMs: this.#codes.tokenTtlMs,
        confirm,
        action: CLI_LOGIN_PATH,
      },
      {
        'set-cookie': [
          cookies.clear,
          ...oldestConfirmCookies(cookies.header).map((name) =>
            confirmCookie(name.slice(CLI_CONFIRM_COOKIE.length + 1), '', 0),
          ),
          confirmCookie(id, binding, Math.ceil(ttlMs / 1000)),
        ],
      },
    );
  }

  async #post(req: CliLoginRequest, query: URLSearchParams): Promise<AuthResponse> {
    // Codes, verifiers and confirmations are secrets: never accepted from a URL.
    if ([...query.keys()].length > 0) {
      return formRefusedPage(400, [
        'This form sends its fields in the POST body, never in the URL.',
      ]);
    }
    const form = await readForm(req, FORM_LIMIT_BYTES);
    if (!(form instanceof URLSearchParams)) return form;
    if (form.has('grant_type')) return this.#exchange(form);
    return this.#decide(req, form);
  }

  /** The CLI's exchange of its code and verifier for the token (JSON, never cached). */
  async #exchange(form: URLSearchParams): Promise<AuthResponse> {
    if (form.get('grant_type') !== 'authorization_code') {
      return jsonResponse(400, {
        error: 'unsupported_grant_type',
        error_description: 'use grant_type=authorization_code',
      });
    }
    const answer = await this.#codes.redeem(
      form.get('code') ?? '',
      form.get('code_verifier') ?? '',
    );
    if ('error' in answer) {
      return jsonResponse(400, { error: answer.error, error_description: answer.description });
    }
    return jsonResponse(200, {
      token: answer.token,
      expires_at: answer.expiresAt,
      user: answer.user,
    });
  }

  /** Allow or Deny on the confirmation page: a code, or an error, to the CLI's callback. */
  async #decide(req: CliLoginRequest, form: URLSearchParams): Promise<AuthResponse> {
    const decision = form.get('decision');
    const fromPage = ['Send this form from the Postern page itself.'];
    if (crossSite(req)) return crossSiteRefusedPage(fromPage);
    if (decision !== 'allow' && decision !== 'deny') return formRefusedPage(403, fromPage);
    const confirmed = await this.#confirmation(form.get('confirm') ?? '');
    if (confirmed === undefined) {
      return htmlPage(400, 'Login expired', [
        'This sign-in request expired or is not valid. Run <code>postern login</code> again.',
      ]);
    }
    const id = String(confirmed.claims['jti']);
    const binding = readCookie(req.headers.cookie, confirmCookieName(id)) ?? '';
    if (!sameToken(s256(binding), String(confirmed.claims['bind']))) {
      return formRefusedPage(403, [
        'This browser was not shown this sign-in request. Run <code>postern login</code> again.',
      ]);
    }
    if (!(await this.#once.use(id))) {
      return htmlPage(409, 'Already decided', ['This sign-in request was already answered.']);
    }
    const back = new URL(String(confirmed.claims['cb']));
    back.searchParams.set('state', String(confirmed.claims['st']));
    if (decision === 'deny') {
      back.searchParams.set('error', 'access_denied');
      back.searchParams.set('error_description', 'the user denied the login in the browser');
    } else {
      back.searchParams.set(
        'code',
        await this.#codes.issue(confirmed.identity, String(confirmed.claims['cc'])),
      );
    }
    return redirect(back.href, { 'set-cookie': confirmCookie(id, '', 0) });
  }

  /** The verified confirmation of the form, when it is one and still names a loopback callback. */
  async #confirmation(token: string): Promise<VerifiedToken | undefined> {
    try {
      const verified = await this.#o.authority.verify(token, { audience: CONFIRM_AUDIENCE });
      const { cb, st, cc, jti } = verified.claims;
      const valid =
        typeof jti === 'string' &&
        CONFIRM_ID.test(jti) &&
        typeof cb === 'string' &&
        LOOPBACK_CALLBACK.test(cb) &&
        typeof st === 'string' &&
        typeof cc === 'string';
      return valid ? verified : undefined;
    } catch (err) {
      if (isPosternError(err)) return undefined;
      throw err;
    }
  }

  /**
   * `?check=1`, the CLI's check before it sends the user here: answers 204 when a login could
   * start (the provider answers; with a choice of several, one of them), the same error page as a
   * real start when not, and stores nothing (no pending login, no cookie).
   */
  async #check(req: Pick<LoginRequest, 'host'>, idp: string | AuthResponse): Promise<AuthResponse> {
    if (!validHost(req.host ?? '')) return badHostPage();
    // With several providers and none chosen, the user picks one on the start page.
    const names = this.#o.providers.names();
    const candidates = typeof idp === 'string' ? [idp] : names.length > 1 ? names : [];
    if (typeof idp !== 'string' && candidates.length === 0) return idp;
    let failure: unknown;
    for (const name of candidates) {
      try {
        await this.#o.providers.client(name);
        return { status: 204, headers: { 'cache-control': 'no-store' }, body: '' };
      } catch (err) {
        failure = err;
      }
    }
    throw failure;
  }

  /** The provider of the CLI login started by `target`, or the page to choose one or saying why none. */
  #provider(target: string): string | AuthResponse {
    return chooseProvider({
      configured: this.#o.identityProvider,
      names: this.#o.providers.names(),
      target,
    });
  }
}
