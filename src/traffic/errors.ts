import { PosternError } from '../core/index.js';

/** Errors of the traffic layer: virtual servers, pools and dialing upstreams. */
export const trafficErrors = {
  listenFailed: (name: string, listen: string, cause: unknown) =>
    new PosternError(
      'POSTERN_ERR_LISTEN_FAILED',
      `Virtual server "${name}" cannot listen on ${listen}: ${(cause as Error).message}. Choose a free address or stop what holds it.`,
      { cause },
    ),
  poolEmpty: (pool: string) =>
    new PosternError(
      'POSTERN_ERR_POOL_EMPTY',
      `Pool "${pool}" has no active node to send the connection to. Add nodes or set a node's state to active.`,
    ),
  dialRefused: (address: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_DIAL_REFUSED',
      `${address} refused the connection${detail}. Check that the application is running and listening on that port.`,
    ),
  dialTimeout: (address: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_DIAL_TIMEOUT',
      `Connecting to ${address} timed out${detail}. Check the route and firewalls between the connector and the application.`,
    ),
  dialDns: (address: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_DIAL_DNS',
      `The name in ${address} could not be resolved${detail}. Check the name and the connector's DNS resolver.`,
    ),
  dialNotAllowed: (address: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_DIAL_NOT_ALLOWED',
      `${address} is not a destination this connector group may reach${detail}. Add it to a pool or application served by the group.`,
    ),
  dialUnreachable: (address: string, detail: string) =>
    new PosternError(
      'POSTERN_ERR_DIAL_UNREACHABLE',
      `${address} is unreachable${detail}. Check the routes of the network the connector runs in.`,
    ),
  dialFailed: (address: string, detail: string, cause?: unknown) =>
    new PosternError('POSTERN_ERR_DIAL_FAILED', `Connecting to ${address} failed${detail}.`, {
      cause,
    }),
  /** Every node tried failed: keeps the last failure's code; `tried` lists each node and why. */
  nodesFailed: (code: string, pool: string, count: number, tried: string, cause: unknown) =>
    new PosternError(
      code,
      `All ${count} nodes tried for pool "${pool}" failed: ${tried}. Check that the application on each node is running and listening on its port, and the pool's monitor and node status (GET /api/v1/pools/${pool}).`,
      { cause },
    ),
  noConnector: (group: string) =>
    new PosternError(
      'POSTERN_ERR_NO_CONNECTOR',
      `No connector of group "${group}" is connected and accepting sessions. Start a connector with a provisioning key of that group, or check why the existing ones are down (\`postern connectors list\`).`,
    ),
  poolDown: (pool: string) =>
    new PosternError(
      'POSTERN_ERR_POOL_DOWN',
      `Every node of pool "${pool}" is failing its health checks and the pool's panic mode is "none", so the session was refused. Fix the nodes (see the pool's status for each node's last error) or set panic: all to try them anyway.`,
    ),
  /** Every usable node is at its connection limit and the pick cannot wait: no queue, or a full one. */
  poolFull: (pool: string, queueMax: number, queueTimeoutMs: number) =>
    new PosternError(
      'POSTERN_ERR_POOL_FULL',
      `Every usable node of pool "${pool}" is at its connection limit (node_max_connections) and ${queueTimeoutMs > 0 ? `its queue already holds ${queueMax} waiting (queue_max)` : 'the pool has no queue (queue_timeout_ms is 0)'}. Add nodes, raise the limits, or let requests wait longer (queue_timeout_ms, queue_max).`,
    ),
  /** A pick waited `ms` in the pool's queue and no node freed a slot. */
  poolQueueTimeout: (pool: string, ms: number) =>
    new PosternError(
      'POSTERN_ERR_POOL_QUEUE_TIMEOUT',
      `Waited ${ms} ms in the queue of pool "${pool}" (queue_timeout_ms) and no node dropped below its connection limit. Add nodes or raise node_max_connections; a longer queue_timeout_ms lets requests wait longer.`,
    ),
  poolInvalid: (pool: string, problem: string) =>
    new PosternError(
      'POSTERN_ERR_POOL_INVALID',
      `Pool "${pool}" cannot be built: ${problem}. Fix the pool's configuration.`,
    ),
  monitorInvalid: (monitor: string, problem: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_MONITOR_INVALID',
      `Monitor "${monitor}" cannot run: ${problem}. Fix the monitor's configuration.`,
      { cause },
    ),
  discoveryFailed: (name: string, type: string, detail: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_DISCOVERY_FAILED',
      `Resolving ${type} records of "${name}" failed: ${detail}. The pool keeps its last good node set; check the name and that the resolver answers.`,
      { cause },
    ),
  /** TLS to a node failed (handshake or certificate check); a dial failure for retries and health. */
  upstreamTls: (address: string, pool: string, reason: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_UPSTREAM_TLS',
      `TLS to node ${address} of pool "${pool}" failed: ${reason}. Check that the node speaks TLS on that port and that its certificate is signed by the pool's tls.ca (or a system CA) and names the pool's tls.server_name (or the node's host).`,
      { cause },
    ),
} as const;
