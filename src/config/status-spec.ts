import { z } from 'zod';

const statusPattern = /^([1-5][0-9]{2})(?:-([1-5][0-9]{2}))?$/;

/** The reason a status text is not a status or range, or undefined when it is valid. */
function statusProblem(text: string): string | undefined {
  const m = statusPattern.exec(text);
  if (!m) return `"${text}" is neither a status (e.g. "200") nor a range (e.g. "200-399")`;
  if (m[2] !== undefined && Number(m[2]) < Number(m[1])) {
    return `the range "${text}" ends before it starts`;
  }
  return undefined;
}

// A YAML author writes `200` as often as `"200"`; numbers become text before the check.
const statusText = z.union([z.string(), z.number().int().transform(String)]).pipe(
  z.string().superRefine((text, ctx) => {
    const problem = statusProblem(text);
    if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem });
  }),
);

/**
 * Expected HTTP statuses: one status (`200`), a range (`"200-399"`) or a list of them; always
 * a list once parsed.
 */
export const expectStatusSchema = z
  .union([statusText, z.array(statusText).min(1).max(32)], {
    error: 'must be a status ("200"), a range ("200-399") or a list of them',
  })
  .transform((value) => (Array.isArray(value) ? value : [value]))
  .default(['200-399'])
  .meta({ description: 'Expected status: "200", a range "200-399", or a list of them.' });

/** True when `status` is one of the statuses or ranges of a parsed `expect_status`. */
export function statusMatches(expect: readonly string[], status: number): boolean {
  return expect.some((spec) => {
    const m = statusPattern.exec(spec);
    if (!m) return false;
    const low = Number(m[1]);
    const high = m[2] === undefined ? low : Number(m[2]);
    return status >= low && status <= high;
  });
}
