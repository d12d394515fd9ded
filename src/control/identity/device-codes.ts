import { randomBytes, randomInt } from 'node:crypto';

/**
 * Letters of user codes: consonants without vowels (no words get spelled) and without letters
 * that are easily confused or misheard (RFC 8628 §6.1 suggests this "BCDFGHJKLMNPQRSTVWXZ").
 */
export const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
/** Letters in a user code: 20^8 ≈ 2^34.5 codes, with 5 wrong tries allowed per session. */
export const USER_CODE_LENGTH = 8;

const DEVICE_CODE = /^[A-Za-z0-9_-]{43}$/;

/** A new user code in its canonical form (upper-case letters, no separator), e.g. `WDJBMJHT`. */
export function newUserCode(): string {
  let code = '';
  for (let i = 0; i < USER_CODE_LENGTH; i++) {
    code += USER_CODE_ALPHABET[randomInt(USER_CODE_ALPHABET.length)];
  }
  return code;
}

/** A user code as shown to people: two groups of four, e.g. `WDJB-MJHT`. */
export function formatUserCode(code: string): string {
  const half = USER_CODE_LENGTH / 2;
  return `${code.slice(0, half)}-${code.slice(half)}`;
}

/**
 * The canonical form of what a user typed, or undefined when it cannot be a user code. Case,
 * spaces and dashes do not matter, so `wdjb mjht` and `WDJB-MJHT` are the same code.
 */
export function normalizeUserCode(input: string): string | undefined {
  if (input.length > 32) return undefined;
  const code = input.toUpperCase().replace(/[\s-]/g, '');
  if (code.length !== USER_CODE_LENGTH) return undefined;
  return [...code].every((c) => USER_CODE_ALPHABET.includes(c)) ? code : undefined;
}

/** A new device code: 256 random bits, the CLI's secret for polling. */
export function newDeviceCode(): string {
  return randomBytes(32).toString('base64url');
}

/** Whether `value` has the shape of a device code (checked before any store lookup). */
export function isDeviceCode(value: string): boolean {
  return DEVICE_CODE.test(value);
}
