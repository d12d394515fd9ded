import { randomBytes } from 'node:crypto';
import { definedProps } from '../core/index.js';
import { formatProvisioningKey } from '../protocol/index.js';
import { hashProvisioningSecret } from '../pki/index.js';
import type { ProvisioningKeyRecord, Store } from '../store/index.js';

/** Options for a new provisioning key. */
export interface NewKeyOptions {
  readonly group: string;
  readonly maxUsage?: number | undefined;
  readonly expiresAt?: number | undefined;
  readonly sourceCidrs?: readonly string[] | undefined;
  readonly enabled?: boolean | undefined;
  /** Address the key tells connectors to dial. */
  readonly edgeAddress: string;
}

/**
 * Creates a provisioning key: a random id and 256-bit secret; only the secret's hash is
 * stored, and the full value is returned this once.
 */
export async function createProvisioningKey(
  store: Store,
  options: NewKeyOptions,
): Promise<{ record: ProvisioningKeyRecord; value: string }> {
  const keyId = `k${randomBytes(6).toString('hex')}`;
  const secret = randomBytes(32).toString('base64url');
  const record = await store.provisioningKeys.create({
    id: keyId,
    group: options.group,
    secretHash: hashProvisioningSecret(secret),
    ...definedProps({
      maxUsage: options.maxUsage,
      expiresAt: options.expiresAt,
      sourceCidrs: options.sourceCidrs,
      enabled: options.enabled,
    }),
  });
  return {
    record,
    value: formatProvisioningKey({ edgeAddress: options.edgeAddress, keyId, secret }),
  };
}
