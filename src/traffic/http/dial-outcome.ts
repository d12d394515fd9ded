import { isPosternError } from '../../core/index.js';
import type { UpstreamOutcome } from './upstream-pool.js';

/** What a failed dial says about the node, for passive health (the same mapping as TCP). */
export function dialOutcome(err: unknown): UpstreamOutcome {
  const code = isPosternError(err) ? err.code : 'POSTERN_ERR_DIAL_FAILED';
  switch (code) {
    case 'POSTERN_ERR_DIAL_TIMEOUT':
      return { ok: false, kind: 'timeout', error: code };
    case 'POSTERN_ERR_DIAL_REFUSED':
    case 'POSTERN_ERR_DIAL_UNREACHABLE':
    case 'POSTERN_ERR_DIAL_DNS':
    case 'POSTERN_ERR_DIAL_FAILED':
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
    isPosternError(err, 'POSTERN_ERR_DIAL_UNREACHABLE')
  );
}
