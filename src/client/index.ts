export type { EdgeCredential } from './credentials.js';
export { defaultConfigDir, edgeKey, loadCredential, saveCredential } from './credentials.js';
export { clientErrors } from './errors.js';
