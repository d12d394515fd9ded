import { isPosternError } from '../core/index.js';

/** A failed dial as a pick outcome (fits both PoolPick.done and UpstreamPick.done). */
export interface FailedDialOutcome {
  readonly ok: false;
  readonly kind?: 'timeout' | 'connect';
  readonly error: string;
}

/** What a failed dial says about the node, for passive health (the same for every kind of virtual server). */
export function dialOutcome(err: unknown): FailedDialOutcome {
  const code = isPosternError(err) ? err.code : 'POSTERN_ERR_DIAL_FAILED';
  switch (code) {
    case 'POSTERN_ERR_DIAL_TIMEOUT':
      return { ok: false, kind: 'timeout', error: code };
    case 'POSTERN_ERR_DIAL_REFUSED':
    case 'POSTERN_ERR_DIAL_UNREACHABLE':
    case 'POSTERN_ERR_DIAL_DNS':
    case 'POSTERN_ERR_DIAL_FAILED':
    case 'POSTERN_ERR_UPSTREAM_TLS':
      return { ok: false, kind: 'connect', error: code };
    default:
      // No connector, or a destination the connector refuses: not the node's fault.
      return { ok: false, error: code };
  }
}

/** True when another node may succeed where this dial failed. */
export function isRetryableDialError(err: unknown): boolean {
  return (
    isPosternError(err, 'POSTERN_ERR_DIAL_REFUSED') ||
    isPosternError(err, 'POSTERN_ERR_DIAL_TIMEOUT') ||
    isPosternError(err, 'POSTERN_ERR_DIAL_UNREACHABLE') ||
    isPosternError(err, 'POSTERN_ERR_UPSTREAM_TLS')
  );
}
