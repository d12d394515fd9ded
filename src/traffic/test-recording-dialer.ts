// Test support: a dialer that dials for real and records every address it is asked for.
import { DirectDialer } from './direct-dial.js';
import type { Dialer, DialRequest } from './dialer.js';

/** Dials for real, recording each address synchronously, as its dial starts. */
export class RecordingDialer implements Dialer {
  readonly dials: string[] = [];
  readonly #inner = new DirectDialer();

  dial(request: DialRequest) {
    this.dials.push(request.address);
    return this.#inner.dial(request);
  }
}
