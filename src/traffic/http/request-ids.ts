import { randomUUID } from 'node:crypto';

// The first 24 characters of a random UUID (about 70 random bits, version nibble kept), per process.
const prefix = randomUUID().slice(0, 24);
let counter = 0;

/**
 * A request id shaped like a UUID: this process's random prefix and a counter, unique across
 * edges and restarts without drawing random bytes for every request.
 */
export function nextRequestId(): string {
  counter = (counter + 1) % 0x1000000000000;
  return prefix + counter.toString(16).padStart(12, '0');
}
