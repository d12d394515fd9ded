/** The close reason of sessions a closing virtual server cut when its drain time ran out. */
export const DRAIN_TIMEOUT_REASON = 'drain_timeout';

/**
 * The error a closing virtual server destroys its remaining sessions with, so that their records
 * say they were cut by the drain (a reload removed, disabled or moved the server, or the edge
 * stopped) rather than closed by either end.
 */
export function drainCut(): Error {
  return Object.assign(new Error('the virtual server closed and its drain time ran out'), {
    code: DRAIN_TIMEOUT_REASON,
  });
}
