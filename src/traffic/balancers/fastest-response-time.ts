import { allowed, type Balancer, type BalancerNode } from './balancer.js';

/**
 * Fastest response time: nodes that have never answered are tried first (in turn), then the
 * node expected to answer soonest, scored as `responseMs × (active + 1)`: its moving-average
 * response time scaled by the sessions it already has, so a burst of new sessions does not all
 * land on one node before any of them report back; a node in slow start has its score
 * divided by its ramp. Ties take turns. A node in slow start that has never answered takes one
 * session at a time until it does: trying it first must not hand it a whole burst, which is
 * what slow start is there to prevent (a node added to a busy pool).
 */
export class FastestResponseTimeBalancer<
  N extends BalancerNode = BalancerNode,
> implements Balancer<N> {
  readonly algorithm = 'fastest_response_time';
  #start = 0;

  pick(nodes: readonly N[], exclude?: ReadonlySet<string>): N | undefined {
    const count = nodes.length;
    let best: N | undefined;
    let bestIndex = 0;
    let bestScore = Infinity;
    // An untried node in slow start that is busy with its first session: only if nothing else.
    let waiting: N | undefined;
    let waitingIndex = 0;
    for (let step = 0; step < count; step++) {
      const index = (this.#start + step) % count;
      const node = nodes[index]!;
      if (!allowed(node, exclude)) continue;
      if (node.responseMs === undefined) {
        if (node.active > 0 && (node.ramp ?? 1) < 1) {
          if (waiting === undefined) [waiting, waitingIndex] = [node, index];
          continue;
        }
        best = node;
        bestIndex = index;
        break;
      }
      const score = (node.responseMs * (node.active + 1)) / (node.ramp ?? 1);
      if (best === undefined || score < bestScore) {
        best = node;
        bestIndex = index;
        bestScore = score;
      }
    }
    if (best === undefined && waiting !== undefined) [best, bestIndex] = [waiting, waitingIndex];
    if (best !== undefined) this.#start = (bestIndex + 1) % count;
    return best;
  }
}
