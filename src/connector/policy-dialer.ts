import { dialError, type Dialer, type DialRequest, type DialResult } from '../traffic/index.js';
import { dialTarget } from './target-dialer.js';
import type { TargetPolicy } from './target-policy.js';

/**
 * The Dialer health checks use on a connector: straight out into the connector's network, but
 * only to destinations the group's policy allows (the same check as the edge's data streams),
 * so a monitor can never make the connector reach anything else.
 */
export class PolicyDialer implements Dialer {
  readonly #policy: () => TargetPolicy;

  constructor(policy: () => TargetPolicy) {
    this.#policy = policy;
  }

  async dial(request: DialRequest): Promise<DialResult> {
    const outcome = await dialTarget(request.address, {
      policy: this.#policy(),
      timeoutMs: request.timeoutMs,
    });
    if (outcome.code !== 'ok') {
      throw dialError(outcome.code, request.address, `from the connector: ${outcome.message}`);
    }
    return { socket: outcome.socket };
  }
}
