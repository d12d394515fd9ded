/** What a provisioning key can do now, as `postern keys list` shows it. */
export type KeyState = 'enabled' | 'disabled' | 'expired' | 'revoked' | 'exhausted';

/** The fields of a provisioning key, as the admin API shows it, that decide its state. */
export interface KeyStateFields {
  readonly revoked?: unknown;
  readonly enabled?: unknown;
  /** ISO 8601 time, absent when the key never expires. */
  readonly expires_at?: unknown;
  readonly usage_count?: unknown;
  readonly max_usage?: unknown;
}

/**
 * The one state that tells an operator whether the key enrolls a connector at `now`. When
 * several apply, the one an operator cannot undo comes first (revoked, then expired), then
 * exhausted (`keys update --max-usage`), then disabled (`keys enable`), so the state shown is
 * the one that still blocks after the easier fixes.
 */
export function keyState(key: KeyStateFields, now: number): KeyState {
  if (key.revoked === true) return 'revoked';
  if (typeof key.expires_at === 'string' && Date.parse(key.expires_at) <= now) return 'expired';
  if (
    typeof key.usage_count === 'number' &&
    typeof key.max_usage === 'number' &&
    key.usage_count >= key.max_usage
  ) {
    return 'exhausted';
  }
  return key.enabled === false ? 'disabled' : 'enabled';
}
