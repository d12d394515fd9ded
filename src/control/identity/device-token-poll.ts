import type { Clock } from '../../core/index.js';
import { jsonResponse, type AuthResponse } from './auth-html.js';
import type { DeviceFlow, DevicePollError } from './device-flow.js';

const POLL_ERRORS: Record<DevicePollError, string> = {
  authorization_pending: 'The user has not approved the login yet.',
  slow_down: 'Polled too often: wait the interval (now longer) between polls.',
  access_denied: 'The user denied the login.',
  expired_token: 'The device login expired before it was approved.',
  invalid_grant: 'The device code is unknown or was already used.',
};

/**
 * Answers the CLI's poll of a device login (`Authorization: Device <device_code>`): the token
 * once the user approved, else the RFC 8628 error with a description and the interval to keep.
 */
export async function answerTokenPoll(
  authorization: string | undefined,
  o: { readonly flow: DeviceFlow; readonly clock: Clock },
): Promise<AuthResponse> {
  const match = /^Device ([A-Za-z0-9_-]{1,100})$/.exec(authorization ?? '');
  if (!match?.[1]) {
    return jsonResponse(400, {
      error: 'invalid_request',
      error_description: 'Send the device code as "Authorization: Device <code>".',
    });
  }
  const answer = await o.flow.poll(match[1]);
  if ('token' in answer) {
    return jsonResponse(200, {
      access_token: answer.token,
      token_type: 'Bearer',
      expires_in: Math.max(0, Math.floor((answer.expiresAt - o.clock.now()) / 1000)),
      expires_at: answer.expiresAt,
      user: answer.user,
    });
  }
  const extra =
    answer.intervalMs === undefined ? {} : { interval: Math.ceil(answer.intervalMs / 1000) };
  const refused = jsonResponse(400, {
    error: answer.error,
    error_description: POLL_ERRORS[answer.error],
    ...extra,
  });
  // A poll before the user approved is an RFC 8628 error, yet nothing failed: the CLI waits on.
  const waiting = answer.error === 'authorization_pending' || answer.error === 'slow_down';
  return waiting ? { ...refused, reason: 'login_pending' } : refused;
}
