/** One Dockerfile instruction: its keyword (upper case) and the text after it. */
export interface Instruction {
  readonly keyword: string;
  readonly args: string;
  readonly line: number;
}

/** One build stage: the `FROM` image, its optional `AS` name and its instructions. */
export interface Stage {
  readonly image: string;
  readonly name: string | undefined;
  readonly platform: string | undefined;
  readonly instructions: readonly Instruction[];
}

/** A parsed Dockerfile: global instructions before the first `FROM`, then the stages. */
export interface Dockerfile {
  readonly preamble: readonly Instruction[];
  readonly stages: readonly Stage[];
}

/**
 * Parses a Dockerfile into stages (comments, blank lines and `\` continuations handled). It is
 * deliberately small: no heredocs and no escape-directive other than the default backslash.
 */
export function parseDockerfile(text: string): Dockerfile {
  const instructions = logicalLines(text).map(({ content, line }) => {
    const match = /^([A-Za-z]+)\s*(.*)$/s.exec(content);
    if (!match) throw new Error(`line ${line}: not an instruction: ${content}`);
    return { keyword: match[1]!.toUpperCase(), args: match[2]!.trim(), line };
  });
  const preamble: Instruction[] = [];
  const stages: { image: string; name?: string; platform?: string; body: Instruction[] }[] = [];
  for (const ins of instructions) {
    if (ins.keyword === 'FROM') {
      stages.push({ ...parseFrom(ins), body: [] });
    } else if (stages.length === 0) {
      preamble.push(ins);
    } else {
      stages[stages.length - 1]!.body.push(ins);
    }
  }
  return {
    preamble,
    stages: stages.map((s) => ({
      image: s.image,
      name: s.name,
      platform: s.platform,
      instructions: s.body,
    })),
  };
}

/** Parses the JSON (exec) form of `ENTRYPOINT`, `CMD` or `HEALTHCHECK CMD`; throws on shell form. */
export function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args);
  if (!Array.isArray(parsed) || !parsed.every((a) => typeof a === 'string')) {
    throw new Error(`not an exec-form array: ${args}`);
  }
  return parsed;
}

/** Splits `name:tag@digest` into its parts; `tag` is undefined when the reference has none. */
export function imageReference(ref: string): { name: string; tag?: string; digest?: string } {
  const [withoutDigest, digest] = ref.split('@', 2) as [string, string | undefined];
  const lastSlash = withoutDigest.lastIndexOf('/');
  const colon = withoutDigest.indexOf(':', lastSlash + 1);
  const name = colon === -1 ? withoutDigest : withoutDigest.slice(0, colon);
  const tag = colon === -1 ? undefined : withoutDigest.slice(colon + 1);
  return {
    name,
    ...(tag !== undefined ? { tag } : {}),
    ...(digest !== undefined ? { digest } : {}),
  };
}

function parseFrom(ins: Instruction): { image: string; name?: string; platform?: string } {
  const words = ins.args.split(/\s+/);
  let platform: string | undefined;
  while (words[0]?.startsWith('--')) {
    const flag = words.shift()!;
    if (flag.startsWith('--platform=')) platform = flag.slice('--platform='.length);
  }
  const [image, as, name] = words;
  if (image === undefined) throw new Error(`line ${ins.line}: FROM without an image`);
  if (as !== undefined && (as.toUpperCase() !== 'AS' || name === undefined)) {
    throw new Error(`line ${ins.line}: malformed FROM: ${ins.args}`);
  }
  return {
    image,
    ...(name !== undefined ? { name } : {}),
    ...(platform !== undefined ? { platform } : {}),
  };
}

function logicalLines(text: string): { content: string; line: number }[] {
  const out: { content: string; line: number }[] = [];
  let pending: { content: string; line: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const trimmed = raw.trim();
    // Comment lines are dropped, even inside a continuation (as Docker does).
    if (trimmed.startsWith('#')) return;
    if (trimmed === '' && pending === undefined) return;
    const continues = trimmed.endsWith('\\');
    const piece = continues ? trimmed.slice(0, -1).trim() : trimmed;
    pending = pending
      ? { content: `${pending.content} ${piece}`.trim(), line: pending.line }
      : { content: piece, line: index + 1 };
    if (!continues) {
      if (pending.content !== '') out.push(pending);
      pending = undefined;
    }
  });
  if (pending && pending.content !== '') out.push(pending);
  return out;
}
