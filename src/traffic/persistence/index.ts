export { SourceIpTable } from './source-ip-table.js';
export type { SourceIpTableOptions } from './source-ip-table.js';
export { nodeToken, setCookieHeader, tokenFromCookie } from './cookie-persistence.js';
export type { CookiePersistenceOptions } from './cookie-persistence.js';
