import type { CollectionObject } from '../config/index.js';
import { isPosternError, type PosternError } from '../core/index.js';
import { trafficErrors, type Dialer, type DialResult } from '../traffic/index.js';

/** One dial of an application's destination by a connector. */
export interface GroupDial {
  readonly address: string;
  readonly sessionId: string;
  readonly timeoutMs: number;
}

/**
 * Dials `dial.address` through the application's connector groups in their order: a group with
 * no connector up passes to the next, any other failure is the answer.
 */
export async function dialThroughGroups(
  dialer: Dialer,
  app: CollectionObject<'applications'>,
  dial: GroupDial,
): Promise<DialResult> {
  let lastError: PosternError | undefined;
  for (const group of app.connector_groups) {
    try {
      return await dialer.dial({ ...dial, via: group });
    } catch (err) {
      if (!isPosternError(err, 'POSTERN_ERR_NO_CONNECTOR')) throw err;
      lastError = err;
    }
  }
  throw lastError ?? trafficErrors.noConnector(app.connector_groups.join(', '));
}
