let cached = '';
let cachedSecond = -1;

/** The current time as an HTTP Date value (IMF-fixdate), computed at most once per second. */
export function utcDate(): string {
  const now = Date.now();
  const second = Math.floor(now / 1000);
  if (second !== cachedSecond) {
    cachedSecond = second;
    cached = new Date(now).toUTCString();
  }
  return cached;
}
