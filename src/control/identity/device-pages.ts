import type { IncomingHttpHeaders } from 'node:http';
import type { Logger } from 'pino';
import type { Clock } from '../../core/index.js';
import type { DeviceAttemptRepository } from '../../store/index.js';
import { AttemptLimiter } from './attempt-limiter.js';
import {
  crossSiteRefusedPage,
  escapeHtml,
  formRefusedPage,
  htmlPage,
  jsonResponse,
  loginFailedPage,
  type AuthResponse,
} from './auth-html.js';
import { cookie, readCookie, type BrowserSessions } from './browser-session.js';
import { formatUserCode, normalizeUserCode } from './device-codes.js';
import { crossSite, formToken, sameToken } from './device-form-checks.js';
import type { DeviceFlow, PendingDevice } from './device-flow.js';
import { answerTokenPoll } from './device-token-poll.js';
import { identityErrors } from './errors.js';
import { logWithReference } from './failure-reference.js';
import { readForm } from './form-body.js';
import { validHost } from './provider-login.js';
import type { BrowserSession } from './session-store.js';
import { SharedAttemptLimit } from './shared-attempt-limit.js';

/** Where the device login lives: the CLI's endpoints and the user's verification page. */
export const DEVICE_PATHS = {
  /** GET: the verification page; POST: the CLI starts a device login. */
  page: '/.postern/cli/device',
  /** POST: the CLI polls, with `Authorization: Device <device_code>`. */
  token: '/.postern/cli/device/token',
  approve: '/.postern/cli/device/approve',
  deny: '/.postern/cli/device/deny',
} as const;

/** The cookie of a device approval session (short-lived, for the verification page only). */
export const DEVICE_COOKIE = '__Host-postern-device';
/** The "virtual server" of device approval sessions, so no application accepts them. */
export const DEVICE_SCOPE = '.postern/device';
/** How long a device approval session lasts: long enough to read and decide. */
export const DEVICE_SESSION_MS = 600_000;

/** A request as the device pages need it (an AuthRequest of the auth pages). */
export interface DeviceRequest {
  readonly method: string;
  /** Path and query (the auth pages pass it): the provider choice page links back to it. */
  readonly target?: string | undefined;
  readonly host: string | undefined;
  readonly headers: IncomingHttpHeaders;
  /** Whether the client reached the edge over TLS. */
  readonly secure: boolean;
  /** The client's address, shown to the approving user and used for rate limits. */
  readonly clientIp?: string | undefined;
  /** Reads the body, at most `limit` bytes (undefined beyond): the approve and deny forms. */
  readonly readBody?: ((limit: number) => Promise<Buffer | undefined>) | undefined;
}

/** What the device pages need from the auth pages. */
export interface DevicePagesOptions {
  readonly flow: DeviceFlow;
  /** The shared store's attempt counters: wrong codes and starts count on every edge. */
  readonly attempts: DeviceAttemptRepository;
  readonly sessions: BrowserSessions;
  readonly clock: Clock;
  readonly logger?: Logger | undefined;
  /** Sends a browser to the identity provider; it comes back to `returnTo` with a device session. */
  readonly startLogin: (req: DeviceRequest, returnTo: string) => Promise<AuthResponse>;
}

/** How many device logins may be started: per client address per window, and per edge per minute. */
const START_LIMIT = { perAddress: 30, windowMs: 600_000, perEdgePerMinute: 300 } as const;
/** Wrong user codes a session or client address may enter per window before it is locked. */
const WRONG_CODE_LIMIT = { max: 5, windowMs: 900_000 } as const;
/** The approve and deny forms carry two short fields; anything longer is not from the page. */
const FORM_LIMIT_BYTES = 2048;
/** Sent with every device page: the user code in its URL must not leak nor be cached. */
const DEVICE_HEADERS = { 'referrer-policy': 'no-referrer', 'cache-control': 'no-store' } as const;

/**
 * The device login's HTTP side: the CLI's start and poll endpoints (JSON, RFC 8628 names) and
 * the verification page where a logged-in user checks the code and the request's details and
 * approves or denies with a POST. A GET never decides (anti-phishing); decisions carry their
 * fields (user code, per-form token bound to the session cookie) in the POST body, never in the
 * URL, and are refused cross-site (device-form-checks.ts). Wrong codes and starts per address
 * are counted in the shared store, so the limits hold for every edge of an HA set together. The
 * poll's answers are in device-token-poll.ts.
 */
export class DevicePages {
  readonly #o: DevicePagesOptions;
  /** Wrong user codes per session and per client address, on every edge. */
  readonly #wrongCodes: SharedAttemptLimit;
  /** Device logins a client address may start per window, on every edge (anyone may start). */
  readonly #startsPerAddress: SharedAttemptLimit;
  /**
   * Device logins this edge starts per minute over every address. Per edge on purpose: it
   * guards this edge's own store writes (each start is a counter and a row), so it must hold
   * before the store is asked anything, and N edges may carry N times the load.
   */
  readonly #starts: AttemptLimiter;

  constructor(options: DevicePagesOptions) {
    this.#o = options;
    this.#wrongCodes = new SharedAttemptLimit(options.attempts, options.clock, {
      kind: 'device-wrong-code',
      ...WRONG_CODE_LIMIT,
    });
    this.#startsPerAddress = new SharedAttemptLimit(options.attempts, options.clock, {
      kind: 'device-start',
      max: START_LIMIT.perAddress,
      windowMs: START_LIMIT.windowMs,
    });
    this.#starts = new AttemptLimiter(options.clock, {
      maxFailures: START_LIMIT.perEdgePerMinute,
      windowMs: 60_000,
    });
  }

  /** The response for a device path, or undefined when `url` is not one. */
  async respond(req: DeviceRequest, url: URL): Promise<AuthResponse | undefined> {
    const answer = await this.#route(req, url);
    return answer && { ...answer, headers: { ...answer.headers, ...DEVICE_HEADERS } };
  }

  /** Deletes attempt counters (of every edge) whose window ended; returns how many went. */
  sweep(): Promise<number> {
    return this.#wrongCodes.sweep();
  }

  async #route(req: DeviceRequest, url: URL): Promise<AuthResponse | undefined> {
    switch (url.pathname) {
      case DEVICE_PATHS.page:
        if (req.method === 'POST') return this.#start(req);
        if (req.method === 'GET' || req.method === 'HEAD') return this.#page(req, url);
        return notAllowed('GET, POST');
      case DEVICE_PATHS.token:
        if (req.method !== 'POST') return notAllowed('POST');
        return answerTokenPoll(req.headers.authorization, this.#o);
      case DEVICE_PATHS.approve:
      case DEVICE_PATHS.deny:
        if (req.method !== 'POST') return notAllowed('POST');
        return this.#decide(req, url, url.pathname === DEVICE_PATHS.approve);
      default:
        return undefined;
    }
  }

  async #start(req: DeviceRequest): Promise<AuthResponse> {
    const host = req.host ?? '';
    // The verification URL below is built from the Host header.
    if (!validHost(host)) return jsonError(400, 'invalid_request', 'The Host header is not valid.');
    const tooMany = () =>
      jsonError(
        429,
        'too_many_requests',
        `Too many device logins were started from ${req.clientIp ?? 'this address'} or on this ` +
          'edge recently; finish or wait for the ones already started, and try again in a few minutes.',
      );
    // The per-edge cap first: it is checked in memory and protects the store writes below.
    if (this.#starts.locked(['all'])) return tooMany();
    this.#starts.fail(['all']);
    const address = [`ip:${req.clientIp ?? 'unknown'}`];
    const refused = await this.#count(this.#startsPerAddress, address, tooMany, 'json');
    if (refused) return refused;
    const started = await this.#o.flow.start(req.clientIp ?? 'unknown');
    const page = `${req.secure ? 'https' : 'http'}://${host}${DEVICE_PATHS.page}`;
    const userCode = formatUserCode(started.userCode);
    return jsonResponse(200, {
      device_code: started.deviceCode,
      user_code: userCode,
      verification_uri: page,
      verification_uri_complete: `${page}?user_code=${userCode}`,
      expires_in: Math.floor(started.expiresInMs / 1000),
      interval: Math.ceil(started.intervalMs / 1000),
    });
  }

  async #page(req: DeviceRequest, url: URL): Promise<AuthResponse> {
    const typed = url.searchParams.get('user_code');
    const code = typed === null ? undefined : normalizeUserCode(typed);
    const session = await this.#session(req);
    if (!session) {
      const back =
        code === undefined ? DEVICE_PATHS.page : `${DEVICE_PATHS.page}?user_code=${code}`;
      return this.#o.startLogin(req, back);
    }
    const who = session.identity.email ?? session.identity.subject;
    if (typed === null) return enterCodePage(who);
    const keys = limiterKeys(session, req);
    const refused = await this.#count(this.#wrongCodes, keys, lockedPage, 'html');
    if (refused) return refused;
    const pending = code === undefined ? undefined : await this.#o.flow.pending(code);
    if (!pending) {
      return enterCodePage(
        who,
        'This code is unknown, expired or already used. Check it and try again.',
      );
    }
    await this.#refund(keys);
    return confirmPage(who, pending, csrfToken(req, pending.userKey));
  }

  async #decide(req: DeviceRequest, url: URL, approve: boolean): Promise<AuthResponse> {
    // The fields are secrets (the user code, the form token): a URL would leak them to access
    // logs, history and Referer headers, so one carrying anything is refused outright.
    if (url.search !== '') {
      return formRefusedPage(400, [
        'This form sends its fields in the POST body, never in the URL. Open the page again.',
      ]);
    }
    if (crossSite(req)) {
      return crossSiteRefusedPage(['This form must be sent from the Postern page itself.']);
    }
    const form = await readForm(req, FORM_LIMIT_BYTES);
    if (!(form instanceof URLSearchParams)) return form;
    const session = await this.#session(req);
    if (!session) {
      const page = htmlPage(401, 'Login required', [
        `Your session has ended. <a href="${DEVICE_PATHS.page}">Log in again</a> and enter the code.`,
      ]);
      // Not a failed login: the approval session ended, and the user must sign in first.
      return { ...page, reason: 'login_required' };
    }
    const keys = limiterKeys(session, req);
    const refused = await this.#count(this.#wrongCodes, keys, lockedPage, 'html');
    if (refused) return refused;
    const pending = await this.#o.flow.pending(form.get('user_code') ?? '');
    if (!pending) {
      return enterCodePage(
        session.identity.email ?? session.identity.subject,
        'This code is unknown, expired or already used. Start again with <code>postern login --device</code>.',
      );
    }
    await this.#refund(keys);
    if (!sameToken(form.get('csrf') ?? '', csrfToken(req, pending.userKey))) {
      return formRefusedPage(403, ['The form is stale or forged; open the page again.']);
    }
    const decided = await this.#o.flow.decide(pending.userCode, session.identity, approve);
    // The approval session is for this one decision: end it, so the page cannot be reused.
    await this.#o.sessions.end(readCookie(req.headers.cookie, DEVICE_COOKIE));
    const clear = { 'set-cookie': cookie(DEVICE_COOKIE, '', 0) };
    if (!decided) {
      return htmlPage(409, 'Too late', ['This login expired or was decided meanwhile.'], clear);
    }
    return approve
      ? htmlPage(
          200,
          'Device approved',
          ['The terminal gets its token within a few seconds. You can close this window.'],
          clear,
        )
      : htmlPage(
          200,
          'Device denied',
          ['The login was denied; the terminal reports it. You can close this window.'],
          clear,
        );
  }

  /**
   * Counts an attempt in the shared store: undefined when allowed, else the answer refusing it
   * (`refuse`, or 503 when the store cannot count: fail closed, as counting on this edge alone
   * would let N edges allow N times the attempts). The 503 shows the code and a reference to
   * the log line, not the error's message (operator advice about the store).
   */
  async #count(
    limit: SharedAttemptLimit,
    keys: readonly string[],
    refuse: () => AuthResponse,
    as: 'html' | 'json',
  ): Promise<AuthResponse | undefined> {
    try {
      return (await limit.attempt(keys)) ? undefined : refuse();
    } catch (cause) {
      const err = identityErrors.deviceLimitsUnavailable(cause);
      const reference = logWithReference(
        this.#o.logger,
        err,
        'device login attempt refused: the store cannot count it',
      );
      // 503, not the 502 of a failed login: the edge's own store failed, and trying later helps.
      if (as === 'html') return { ...loginFailedPage(err.code, reference), status: 503 };
      return jsonError(
        503,
        'temporarily_unavailable',
        `The edge cannot count device logins now (${err.code}); try again in a minute. ` +
          `If it keeps failing, give your administrator this reference: ${reference}.`,
      );
    }
  }

  /** A right code does not count; failing to take it back only over-counts, so it is logged. */
  async #refund(keys: readonly string[]): Promise<void> {
    try {
      await this.#wrongCodes.refund(keys);
    } catch (err) {
      this.#o.logger?.warn({ err }, 'could not take back a device login attempt');
    }
  }

  async #session(req: DeviceRequest): Promise<BrowserSession | undefined> {
    const found = await this.#o.sessions.check(
      readCookie(req.headers.cookie, DEVICE_COOKIE),
      DEVICE_SCOPE,
      {
        idleTimeoutMs: 0,
        reauthenticationTimeoutMs: DEVICE_SESSION_MS,
      },
    );
    return 'session' in found ? found.session : undefined;
  }
}

/** The Set-Cookie of a new device approval session. */
export function deviceSessionCookie(secret: string): string {
  return cookie(DEVICE_COOKIE, secret, DEVICE_SESSION_MS / 1000);
}

function limiterKeys(session: BrowserSession, req: DeviceRequest): string[] {
  return [`session:${session.key}`, `ip:${req.clientIp ?? 'unknown'}`];
}

/** The token the approve and deny forms carry, bound to this browser's device session. */
function csrfToken(req: DeviceRequest, userKey: string): string {
  return formToken(readCookie(req.headers.cookie, DEVICE_COOKIE), userKey);
}

function enterCodePage(who: string, problem?: string): AuthResponse {
  return htmlPage(problem === undefined ? 200 : 400, 'Approve a device login', [
    `You are logged in as <code>${escapeHtml(who)}</code>.`,
    ...(problem === undefined ? [] : [`<strong>${problem}</strong>`]),
    'Enter the code that <code>postern login --device</code> shows in your terminal:',
    `<form method="get" action="${DEVICE_PATHS.page}"><input name="user_code" autocomplete="off" ` +
      'autocapitalize="characters" spellcheck="false" placeholder="XXXX-XXXX" maxlength="12" required> ' +
      '<button type="submit">Continue</button></form>',
  ]);
}

function confirmPage(who: string, pending: PendingDevice, csrf: string): AuthResponse {
  const e = escapeHtml;
  const fields =
    `<input type="hidden" name="user_code" value="${pending.userCode}">` +
    `<input type="hidden" name="csrf" value="${e(csrf)}">`;
  return htmlPage(200, 'Approve a device login?', [
    `You are logged in as <code>${e(who)}</code>.`,
    `A terminal ran <code>postern login --device</code> from <code>${e(pending.clientIp)}</code> ` +
      `at ${e(new Date(pending.createdAt).toISOString())} and asks for a token in your name.`,
    `Check that your terminal shows this code: <strong id="user-code">${formatUserCode(pending.userCode)}</strong>`,
    'Approve only if you started this login yourself just now. If someone sent you this link, deny it.',
    `<form method="post" action="${DEVICE_PATHS.approve}" style="display:inline">${fields}` +
      '<button type="submit" id="approve">Approve</button></form> ' +
      `<form method="post" action="${DEVICE_PATHS.deny}" style="display:inline">${fields}` +
      '<button type="submit" id="deny">Deny</button></form>',
    `The request expires at ${e(new Date(pending.expiresAt).toISOString())}.`,
  ]);
}

function lockedPage(): AuthResponse {
  return htmlPage(429, 'Too many wrong codes', [
    'Too many wrong codes were entered. Wait 15 minutes, then enter the code from your terminal again.',
  ]);
}

function notAllowed(allow: string): AuthResponse {
  return htmlPage(405, 'Method not allowed', [`Use ${allow}.`], { allow });
}

function jsonError(status: number, error: string, description: string): AuthResponse {
  return jsonResponse(status, { error, error_description: description });
}
