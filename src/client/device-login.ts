import { systemClock, type Clock } from '../core/index.js';
import { edgeKey, storeLogin, type EdgeCredential } from './credentials.js';
import { pollDeviceToken, type PollAnswer } from './device-poll.js';
import { postToEdge } from './edge-post.js';
import { clientErrors } from './errors.js';
import { checkCliLogin } from './login-check.js';

/** What the user must do, as the edge told the CLI. */
export interface DevicePrompt {
  /** The page to open in any browser. */
  readonly verificationUri: string;
  /** The same page with the code filled in. */
  readonly verificationUriComplete: string;
  /** The code to check (or type) on that page, e.g. `WDJB-MJHT`. */
  readonly userCode: string;
  readonly expiresInSeconds: number;
}

/** How `postern login --device` runs. */
export interface DeviceLoginOptions {
  /** The edge's access URL (or any of its https virtual servers). */
  readonly edgeUrl: string;
  /** PEM of the CA of the edge's certificate; used for the requests and stored with the token. */
  readonly caPem?: string | undefined;
  /** Told the URL and code (printed by the CLI). */
  readonly onPrompt: (prompt: DevicePrompt) => void;
  /** Where credentials are stored; default {@link defaultConfigDir}. */
  readonly configDir?: string | undefined;
  /** Default the system clock. */
  readonly clock?: Clock | undefined;
  readonly signal?: AbortSignal | undefined;
}

const PATHS = { start: '/.postern/cli/device', token: '/.postern/cli/device/token' } as const;

/**
 * Logs in from a machine without a browser (RFC 8628 device authorization run by the edge):
 * asks the edge for a device code and a user code, has the user approve the code on the edge's
 * page in any browser, polls until the token comes, and stores it with {@link saveCredential}
 * (mode 0600) exactly as the browser login does.
 */
export async function deviceLogin(options: DeviceLoginOptions): Promise<EdgeCredential> {
  const origin = edgeKey(options.edgeUrl);
  const post = (path: string, headers: Record<string, string>): Promise<PollAnswer> =>
    postToEdge(new URL(path, origin), { headers, caPem: options.caPem });
  // The approval page runs the same CLI login: when the edge cannot start one, say so now
  // instead of after the code expired. The callback is never called (the port is discard).
  await checkCliLogin(origin, 'http://127.0.0.1:9/callback', { caPem: options.caPem });
  let started: PollAnswer;
  try {
    started = await post(PATHS.start, {});
  } catch (err) {
    throw clientErrors.edgeUnreachable(origin, err);
  }
  const start = startOf(options.edgeUrl, started);
  options.onPrompt({
    verificationUri: start.verification_uri,
    verificationUriComplete: start.verification_uri_complete,
    userCode: start.user_code,
    expiresInSeconds: start.expires_in,
  });
  const answer = await pollDeviceToken({
    edgeUrl: options.edgeUrl,
    poll: () => post(PATHS.token, { authorization: `Device ${start.device_code}` }),
    clock: options.clock ?? systemClock,
    intervalSeconds: start.interval,
    expiresInSeconds: start.expires_in,
    signal: options.signal,
  });
  return storeLogin(answer, options);
}

interface StartAnswer {
  readonly device_code: string;
  readonly user_code: string;
  readonly verification_uri: string;
  readonly verification_uri_complete: string;
  readonly expires_in: number;
  readonly interval: number;
}

/** The edge's answer to the start, checked: every field the flow needs, of the right type. */
function startOf(edgeUrl: string, answer: PollAnswer): StartAnswer {
  // The edge answers 404 on its device paths when device login is switched off.
  if (answer.status === 404) throw clientErrors.deviceLoginOff(edgeUrl);
  const b = (answer.body ?? {}) as Partial<Record<keyof StartAnswer, unknown>>;
  const ok =
    answer.status === 200 &&
    typeof b.device_code === 'string' &&
    typeof b.user_code === 'string' &&
    typeof b.verification_uri === 'string' &&
    typeof b.verification_uri_complete === 'string' &&
    typeof b.expires_in === 'number' &&
    typeof b.interval === 'number';
  if (!ok) {
    const described = (answer.body as { error_description?: unknown } | undefined)
      ?.error_description;
    const why =
      (answer.status === 429 || answer.status === 503) && typeof described === 'string'
        ? `the edge refused: ${described}`
        : `unexpected answer to the start (HTTP ${answer.status})`;
    throw clientErrors.deviceLoginFailed(edgeUrl, why);
  }
  return b as StartAnswer;
}
