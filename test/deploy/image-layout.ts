import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix } from 'node:path';
import { fileURLToPath } from 'node:url';
import { repoRoot } from '../support/repo-root.js';
import { execForm, parseDockerfile, type Dockerfile, type Stage } from './dockerfile-parser.js';

/** Where the build stage keeps the repository (its `WORKDIR`). */
const BUILD_APP = '/app';
/** The distroless image's Node.js binary, replaced by this process's node when run here. */
export const IMAGE_NODE = '/nodejs/bin/node';

/** The Dockerfile under deploy/, parsed. */
export function loadDockerfile(): Dockerfile {
  return parseDockerfile(readFileSync(join(repoRoot(), 'deploy', 'Dockerfile'), 'utf8'));
}

/** The last stage: the one `docker build` tags. */
export function finalStage(file: Dockerfile): Stage {
  const stage = file.stages[file.stages.length - 1];
  if (!stage) throw new Error('the Dockerfile has no FROM');
  return stage;
}

/** The image's file system as far as Postern needs it, rebuilt on this machine. */
export interface ImageLayout {
  /** Stands for `/` of the image. */
  readonly root: string;
  /** The entrypoint with image paths mapped into `root` and node replaced by this process's. */
  readonly entrypoint: readonly string[];
  /** `ENV` of the final stage. */
  readonly env: Readonly<Record<string, string>>;
  /** Removes `root`. */
  cleanup(): void;
}

/**
 * Rebuilds the runtime stage's files from its `COPY --from=<build>` lines, taking the build
 * stage's `/app` from the repository and `/app/dist` from the tree this test was compiled into.
 */
export function stageImageLayout(file: Dockerfile): ImageLayout {
  const stage = finalStage(file);
  const root = mkdtempSync(join(tmpdir(), 'postern-image-'));
  const compiledRoot = fileURLToPath(new URL('../..', import.meta.url));
  let workdir = '/';
  const env: Record<string, string> = {};
  for (const ins of stage.instructions) {
    if (ins.keyword === 'WORKDIR') workdir = posix.resolve(workdir, ins.args);
    if (ins.keyword === 'ENV') Object.assign(env, parseEnv(ins.args));
    if (ins.keyword !== 'COPY') continue;
    const words = ins.args.split(/\s+/);
    if (!words.some((w) => w.startsWith('--from='))) {
      throw new Error(`line ${ins.line}: the runtime stage copies from the build context`);
    }
    const [source, dest] = words.filter((w) => !w.startsWith('--')) as [string, string];
    const target = join(root, posix.resolve(workdir, dest));
    const from = buildStagePath(source, compiledRoot);
    mkdirSync(dirname(target), { recursive: true });
    if (from === undefined) mkdirSync(target, { recursive: true });
    else if (source.endsWith('/node_modules')) symlinkSync(from, target, 'dir');
    else cpSync(from, target, { recursive: true });
  }
  const entry = stage.instructions.findLast((i) => i.keyword === 'ENTRYPOINT');
  if (!entry) throw new Error('the runtime stage has no ENTRYPOINT');
  const argv = execForm(entry.args);
  const entrypoint = argv.map((arg, i) =>
    i === 0 && arg === IMAGE_NODE ? process.execPath : arg.startsWith('/') ? join(root, arg) : arg,
  );
  return {
    root,
    entrypoint,
    env,
    cleanup: () => rmSync(root, { recursive: true, force: true }),
  };
}

/** Maps a path of the build stage to this machine; undefined for directories made in the stage. */
function buildStagePath(source: string, compiledRoot: string): string | undefined {
  if (source.startsWith(`${BUILD_APP}/dist/`)) {
    return join(compiledRoot, source.slice(`${BUILD_APP}/dist/`.length));
  }
  if (source.startsWith(`${BUILD_APP}/`)) {
    return join(repoRoot(), source.slice(`${BUILD_APP}/`.length));
  }
  return undefined;
}

/** Parses `ENV a=b c=d` (the `key=value` form, values without spaces). */
export function parseEnv(args: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const pair of args.split(/\s+/)) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`ENV must use key=value: ${args}`);
    out[pair.slice(0, eq)] = pair.slice(eq + 1).replace(/^"(.*)"$/, '$1');
  }
  return out;
}
