import { randomBytes } from 'node:crypto';

/**
 * A random 16-byte serial as lower-case hex. The top bit is cleared so the DER INTEGER is
 * positive, and the first byte is non-zero so it stays exactly 16 bytes (RFC 5280 §4.1.2.2).
 */
export function randomSerialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0] ?? 0) & 0x7f || 0x01;
  return bytes.toString('hex');
}
