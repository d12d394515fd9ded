import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { repoRoot } from '../support/repo-root.js';

interface Rule {
  readonly include: boolean;
  readonly pattern: RegExp;
}

/** The rules of deploy/Dockerfile.dockerignore as regular expressions over relative paths. */
function dockerignoreRules(): Rule[] {
  const text = readFileSync(join(repoRoot(), 'deploy', 'Dockerfile.dockerignore'), 'utf8');
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const include = line.startsWith('!');
      const glob = (include ? line.slice(1) : line).replace(/\/$/, '');
      const source = glob
        .split('/')
        .map((part) =>
          part === '**'
            ? '.*'
            : part
                .replace(/[.+^${}()|[\]\\]/g, '\\$&')
                .replace(/\*/g, '[^/]*')
                .replace(/\?/g, '[^/]'),
        )
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      return { include, pattern: new RegExp(`^${source}$`) };
    });
}

/**
 * Whether a file is in the build context: as Docker does, the last rule that matches the path
 * or one of its parent folders decides; a path no rule matches is in.
 */
function inContext(rules: readonly Rule[], rel: string): boolean {
  const parts = rel.split('/');
  const prefixes = parts.map((_, i) => parts.slice(0, i + 1).join('/'));
  let included = true;
  for (const rule of rules) {
    if (prefixes.some((p) => rule.pattern.test(p))) included = rule.include;
  }
  return included;
}

function* walk(dir: string): Generator<string> {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) yield* walk(path);
    else yield path;
  }
}

/**
 * Copies what `docker build -f deploy/Dockerfile .` sends as its context (the top-level entries
 * given, filtered by Dockerfile.dockerignore) into a new temporary folder, with the repository's
 * node_modules linked in as `npm ci` would install them; returns the folder.
 */
export function buildContext(entries: readonly string[]): string {
  const root = repoRoot();
  const rules = dockerignoreRules();
  const out = mkdtempSync(join(tmpdir(), 'postern-build-context-'));
  for (const entry of entries) {
    const top = join(root, entry);
    const files = statSync(top).isDirectory() ? [...walk(top)] : [top];
    for (const file of files) {
      const rel = relative(root, file);
      if (!inContext(rules, rel)) continue;
      mkdirSync(dirname(join(out, rel)), { recursive: true });
      cpSync(file, join(out, rel));
    }
  }
  symlinkSync(join(root, 'node_modules'), join(out, 'node_modules'));
  return out;
}
