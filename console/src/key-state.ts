import type { ProvisioningKey } from './types';

/** What a provisioning key can do now, as the keys table shows it. */
export type KeyState = 'enabled' | 'disabled' | 'expired' | 'revoked' | 'exhausted';

/**
 * The one state that tells an admin whether the key enrolls a connector at `now`, the same as
 * `postern keys list` shows (src/cli/commands/key-state.ts): revoked, then expired, then
 * exhausted, then disabled, so the state shown is the one that still blocks after the easier fixes.
 */
export function keyState(key: ProvisioningKey, now: number): KeyState {
  if (key.revoked) return 'revoked';
  if (key.expires_at !== undefined && Date.parse(key.expires_at) <= now) return 'expired';
  if (key.usage_count >= key.max_usage) return 'exhausted';
  return key.enabled ? 'enabled' : 'disabled';
}
