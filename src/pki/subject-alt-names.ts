/** One subjectAltName entry as node:crypto prints it, e.g. `{ type: 'URI', value: 'urn:x' }`. */
export interface AltName {
  readonly type: string;
  readonly value: string;
}

/**
 * Splits node's `subjectAltName` string (`URI:a, DNS:b, IP Address:c`) into entries. Node prints a
 * value that contains `,`, quotes, a backslash or a control character as a JSON string
 * (`URI:"a, b"`), so a comma only separates entries outside such a string; splitting on every
 * ", " would let one crafted value pose as several names.
 */
export function parseAltNames(text: string): AltName[] {
  const names: AltName[] = [];
  let pos = 0;
  while (pos < text.length) {
    const colon = text.indexOf(':', pos);
    if (colon < 0) throw new SyntaxError(`subjectAltName entry without a type at ${pos}`);
    const type = text.slice(pos, colon);
    const quoted = text[colon + 1] === '"';
    const end = quoted ? closingQuote(text, colon + 2) + 1 : indexOrEnd(text, ', ', colon + 1);
    const raw = text.slice(colon + 1, end);
    names.push({ type, value: quoted ? (JSON.parse(raw) as string) : raw });
    if (end < text.length && !text.startsWith(', ', end)) {
      throw new SyntaxError(`subjectAltName entries must be separated by ", " at ${end}`);
    }
    pos = end + 2;
  }
  return names;
}

function closingQuote(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    if (text[i] === '\\') i++;
    else if (text[i] === '"') return i;
  }
  throw new SyntaxError('unterminated quoted subjectAltName value');
}

function indexOrEnd(text: string, search: string, from: number): number {
  const i = text.indexOf(search, from);
  return i < 0 ? text.length : i;
}
