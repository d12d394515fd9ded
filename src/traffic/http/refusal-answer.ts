/**
 * Answers a request whose reading the edge gave up (a body that stalled, 408, or could not be
 * parsed, 400) on the request's own response, so that its one record and the client's answer
 * carry the same id.
 */
export interface RefusalAnswerer {
  /** Answers `status` with `error` (the response head was not sent yet) and stops the request. */
  answerRefusal(status: number, error: Error): void;
  /**
   * Notes that reading stopped with `error` after the response had started: the caller resets
   * the stream, and the request's record gives `error`'s code as the close reason.
   */
  refusedAfterResponse(error: Error): void;
}

// HTTP/2 responses with a body to read, by response (Node's objects have no field for it).
const h2Answerers = new WeakMap<object, RefusalAnswerer>();

/** Makes `answerer` answer refusals of the HTTP/2 request whose response is `res`. */
export function registerRefusal(res: object, answerer: RefusalAnswerer): void {
  h2Answerers.set(res, answerer);
}

/** The answerer registered for `res`, if any. */
export function refusalAnswererOf(res: object): RefusalAnswerer | undefined {
  return h2Answerers.get(res);
}
