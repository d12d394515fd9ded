export { startKonnectivityFrontend } from './konnectivity-frontend.js';
export type {
  KonnectivityDeps,
  KonnectivityFrontend,
  KonnectivityOptions,
} from './konnectivity-frontend.js';
export { tunnelBackend } from './tunnel-backend.js';
export type { TunnelCandidate } from './tunnel-backend.js';
export type { FrontendBackend, FrontendConnector } from './connect-handler.js';
export { PROXY_STRATEGIES, parseProxyStrategies, selectConnector } from './proxy-strategies.js';
export type { Candidate, ProxyStrategy, Selection } from './proxy-strategies.js';
export { parseConnectHead } from './connect-head.js';
export type { ConnectHead, HeadParse } from './connect-head.js';
export { CONNECTION_ESTABLISHED } from './connect-response.js';
export { konnectivityErrors } from './errors.js';
export { clearStaleSocket } from './unix-listener.js';
