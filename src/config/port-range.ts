import { z } from 'zod';

const portRangePattern = /^([0-9]{1,5})(?:-([0-9]{1,5}))?$/;

/** An inclusive range of TCP ports. */
export interface PortRange {
  readonly from: number;
  readonly to: number;
}

/** The reason a port text is not a port or range, or undefined when it is valid. */
function portRangeProblem(text: string): string | undefined {
  const m = portRangePattern.exec(text);
  if (!m) return `"${text}" is neither a port (e.g. "5432") nor a range (e.g. "8000-8100")`;
  const from = Number(m[1]);
  const to = m[2] === undefined ? from : Number(m[2]);
  if (from < 1 || from > 65535 || to < 1 || to > 65535) {
    return `"${text}" is outside 1..65535`;
  }
  if (to < from) return `the range "${text}" ends before it starts`;
  return undefined;
}

/**
 * Parses a port or range text that `portRangeSchema` accepted (`"5432"`, `"8000-8100"`);
 * returns undefined for text it would reject.
 */
export function parsePortRange(text: string): PortRange | undefined {
  if (portRangeProblem(text) !== undefined) return undefined;
  const m = portRangePattern.exec(text);
  const from = Number(m?.[1]);
  return { from, to: m?.[2] === undefined ? from : Number(m[2]) };
}

/** A TCP port (`"5432"`) or inclusive range (`"8000-8100"`); YAML numbers become text. */
export const portRangeSchema = z
  .union([z.string(), z.number().int().transform(String)])
  .pipe(
    z.string().superRefine((text, ctx) => {
      const problem = portRangeProblem(text);
      if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
    }),
  )
  .meta({ description: 'A TCP port "5432" or an inclusive range "8000-8100".' });
