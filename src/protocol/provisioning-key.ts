import { messageErrors } from './errors.js';

/** Version of the provisioning key format: `1|<edge host:port>|<key id>.<secret>`. */
export const PROVISIONING_KEY_VERSION = '1';

/** The parts of a provisioning key value. */
export interface ProvisioningKeyValue {
  /** Where the connector enrolls and then tunnels to: `host:port` (IPv6 in brackets). */
  readonly edgeAddress: string;
  readonly keyId: string;
  readonly secret: string;
}

const KEY_ID = /^[a-z0-9]{4,64}$/;
const SECRET = /^[A-Za-z0-9_-]{16,256}$/;
const ADDRESS = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):[0-9]{1,5}$/;

/** Formats a provisioning key value, the only thing a connector needs to enroll. */
export function formatProvisioningKey(value: ProvisioningKeyValue): string {
  return `${PROVISIONING_KEY_VERSION}|${value.edgeAddress}|${value.keyId}.${value.secret}`;
}

/** Parses a provisioning key value; a malformed one gets an error that says what is wrong. */
export function parseProvisioningKey(text: string): ProvisioningKeyValue {
  const parts = text.trim().split('|');
  if (parts.length !== 3) {
    throw messageErrors.badProvisioningKey(
      `expected three parts separated by "|", found ${parts.length}`,
    );
  }
  const [version, edgeAddress, credential] = parts as [string, string, string];
  if (version !== PROVISIONING_KEY_VERSION) {
    throw messageErrors.badProvisioningKey(
      `unknown format version "${version}" (this release reads "1")`,
    );
  }
  if (!ADDRESS.test(edgeAddress)) {
    throw messageErrors.badProvisioningKey(`edge address "${edgeAddress}" is not host:port`);
  }
  const dot = credential.indexOf('.');
  const keyId = dot < 0 ? '' : credential.slice(0, dot);
  const secret = dot < 0 ? '' : credential.slice(dot + 1);
  if (!KEY_ID.test(keyId) || !SECRET.test(secret)) {
    throw messageErrors.badProvisioningKey('the credential part is not "<key id>.<secret>"');
  }
  return { edgeAddress, keyId, secret };
}
