export type { Dialer, DialRequest, DialResult } from './dialer.js';
export { Pool } from './pool.js';
export { TcpVirtualServer } from './tcp-virtual-server.js';
export type { TcpVirtualServerOptions, TcpSessionRecord } from './tcp-virtual-server.js';
export { trafficErrors } from './errors.js';
export { DirectDialer, connectTcp, dialCodeOf, dialError, splitHostPort } from './direct-dial.js';
export type { ConnectOutcome } from './direct-dial.js';
export { joinStreams } from './join-streams.js';
export type { PoolPick, PoolPickOptions, PickOutcome, PoolConstructorOptions } from './pool.js';
export type {
  PoolNode,
  PoolOptions,
  NodeState,
  PanicMode,
  PersistenceOptions,
  PoolEvent,
} from './pool-options.js';
export type { PoolConfigInput, PoolBuildContext } from './pool-config.js';
export { poolOptionsFromConfig, persistenceDefaults } from './pool-config.js';
export type { PoolStatus, PoolNodeStatus, MonitorStatus } from './pool-status.js';
export * from './balancers/index.js';
export * from './health/index.js';
export * from './persistence/index.js';
export * from './discovery/index.js';
