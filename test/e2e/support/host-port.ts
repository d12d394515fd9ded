/** Splits `host:port` (IPv4 or a name; the e2e scripts never use IPv6) or throws. */
export function parseHostPort(text: string | undefined): { host: string; port: number } {
  const at = text?.lastIndexOf(':') ?? -1;
  const port = Number(text?.slice(at + 1));
  if (text === undefined || at <= 0 || !Number.isInteger(port) || port <= 0 || port > 65_535) {
    throw new Error(`expected host:port, got ${JSON.stringify(text)}`);
  }
  return { host: text.slice(0, at), port };
}
