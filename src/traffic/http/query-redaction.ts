/**
 * Query parameters whose values are secrets (OAuth codes and tokens, passwords, signed-URL
 * signatures); request records show them as `REDACTED`. Compared in lower case.
 */
const SECRET_QUERY_PARAMETERS: ReadonlySet<string> = new Set([
  'code',
  'state',
  'token',
  'access_token',
  'id_token',
  'refresh_token',
  'client_secret',
  'password',
  'secret',
  'key',
  'api_key',
  'apikey',
  'signature',
  'sig',
  'x-amz-signature',
  'x-amz-security-token',
]);

/** What a redacted value is replaced with. */
export const REDACTED = 'REDACTED';

/**
 * The request target with the values of secret query parameters replaced by `REDACTED`
 * (names matched case-insensitively, also when percent-encoded); everything else is kept as sent.
 */
export function redactTarget(target: string): string {
  const q = target.indexOf('?');
  if (q < 0 || q === target.length - 1) return target;
  const parts = target.slice(q + 1).split('&');
  let changed = false;
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i] as string;
    const eq = part.indexOf('=');
    if (eq < 0 || eq === part.length - 1) continue;
    if (!SECRET_QUERY_PARAMETERS.has(parameterName(part.slice(0, eq)))) continue;
    parts[i] = `${part.slice(0, eq)}=${REDACTED}`;
    changed = true;
  }
  return changed ? `${target.slice(0, q)}?${parts.join('&')}` : target;
}

/** A query parameter's name, decoded and lower-cased (as sent when it is not valid encoding). */
function parameterName(raw: string): string {
  if (!raw.includes('%') && !raw.includes('+')) return raw.toLowerCase();
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' ')).toLowerCase();
  } catch {
    return raw.toLowerCase();
  }
}
