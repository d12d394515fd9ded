/** The variables a rule value may name as `{name}`. */
export const templateVariables = [
  'scheme',
  'host',
  'port',
  'path',
  'query',
  'request_uri',
  'client_ip',
] as const;

/** One of {@link templateVariables}. */
export type TemplateVariable = (typeof templateVariables)[number];

/** A piece of a parsed template: literal text or a variable. */
export type TemplatePart = string | { readonly variable: TemplateVariable };

/** A parsed template, or why the text is not one. */
export type ParsedTemplate =
  | { readonly ok: true; readonly parts: readonly TemplatePart[] }
  | { readonly ok: false; readonly problem: string };

const KNOWN: ReadonlySet<string> = new Set(templateVariables);
const KNOWN_LIST = templateVariables.map((v) => `{${v}}`).join(', ');

/**
 * Parses a rule value with `{variable}` references: `{{` is a literal `{` and `}}` a literal
 * `}` (a lone `}` is literal too). Adjacent literal text is merged, so a value without
 * variables parses to at most one string.
 */
export function parseTemplate(text: string): ParsedTemplate {
  const parts: TemplatePart[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    const open = text.indexOf('{', i);
    const close = text.indexOf('}}', i);
    if (close >= 0 && (open < 0 || close < open)) {
      literal += `${text.slice(i, close)}}`;
      i = close + 2;
      continue;
    }
    if (open < 0) {
      literal += text.slice(i);
      break;
    }
    literal += text.slice(i, open);
    if (text.charCodeAt(open + 1) === 123 /* { */) {
      literal += '{';
      i = open + 2;
      continue;
    }
    const end = text.indexOf('}', open);
    const name = end < 0 ? undefined : text.slice(open + 1, end);
    if (name === undefined || !KNOWN.has(name)) {
      const what = name === undefined ? '"{" without a closing "}"' : `unknown variable {${name}}`;
      return {
        ok: false,
        problem: `${what}; known variables: ${KNOWN_LIST} (write "{{" for a literal "{")`,
      };
    }
    if (literal !== '') parts.push(literal);
    literal = '';
    parts.push({ variable: name as TemplateVariable });
    i = end + 1;
  }
  if (literal !== '') parts.push(literal);
  return { ok: true, parts };
}

/** The problem of a template, or undefined when it parses. */
export function templateProblem(text: string): string | undefined {
  const parsed = parseTemplate(text);
  return parsed.ok ? undefined : parsed.problem;
}
