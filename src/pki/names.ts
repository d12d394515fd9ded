import { isIP } from 'node:net';
import { PkiErrors } from './errors.js';

/** Allowed connector ids and group names: lower-case letters, digits, '-', '.', '_'; 1–64 long. */
export const CONNECTOR_NAME_PATTERN = /^[a-z0-9._-]{1,64}$/;

/** SAN URI prefix naming the connector id. */
export const CONNECTOR_URI_PREFIX = 'urn:postern:connector:';
/** SAN URI prefix naming the connector group. */
export const GROUP_URI_PREFIX = 'urn:postern:group:';

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/i;

/** Throws POSTERN_ERR_PKI_NAME_INVALID unless `value` is a valid connector id or group name. */
export function assertConnectorName(what: 'connector id' | 'group', value: string): void {
  if (!CONNECTOR_NAME_PATTERN.test(value)) {
    throw PkiErrors.nameInvalid(
      what,
      value,
      'use 1 to 64 characters from a-z, 0-9, "-", "." and "_"',
    );
  }
}

/** The SAN URI that names connector `id`. */
export function connectorUri(id: string): string {
  return CONNECTOR_URI_PREFIX + id;
}

/** The SAN URI that names connector group `group`. */
export function groupUri(group: string): string {
  return GROUP_URI_PREFIX + group;
}

/** Throws POSTERN_ERR_PKI_NAME_INVALID unless `name` is a DNS name (a leading `*.` is allowed). */
export function assertDnsName(name: string): void {
  const bare = name.startsWith('*.') ? name.slice(2) : name;
  const labels = bare.split('.');
  if (bare.length > 253 || !labels.every((label) => DNS_LABEL.test(label))) {
    throw PkiErrors.nameInvalid(
      'DNS name',
      name,
      'use dot-separated labels of letters, digits and "-"',
    );
  }
}

/** Throws POSTERN_ERR_PKI_NAME_INVALID unless `address` is an IPv4 or IPv6 address. */
export function assertIpAddress(address: string): void {
  if (isIP(address) === 0) {
    throw PkiErrors.nameInvalid('IP address', address, 'use a literal IPv4 or IPv6 address');
  }
}
