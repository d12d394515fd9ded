import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { repoRoot } from '../support/repo-root.js';
import { buildContext } from './build-context.js';
import { execForm, imageReference, parseDockerfile } from './dockerfile-parser.js';
import { IMAGE_NODE, finalStage, loadDockerfile, stageImageLayout } from './image-layout.js';

const VERSION = (
  JSON.parse(readFileSync(join(repoRoot(), 'package.json'), 'utf8')) as { version: string }
).version;

function runImage(
  argv: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  const [cmd, ...args] = argv;
  return new Promise((resolve) => {
    execFile(cmd!, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('the parser splits stages, joins continuations and drops comments', () => {
  const file = parseDockerfile(
    '# syntax=docker/dockerfile:1\nARG V=1\nFROM a:1 AS one\nRUN x \\\n  # note\n  && y\n' +
      'FROM --platform=linux/amd64 b:2\nUSER 10\n',
  );
  assert.deepEqual(
    file.stages.map((s) => [s.image, s.name, s.platform]),
    [
      ['a:1', 'one', undefined],
      ['b:2', undefined, 'linux/amd64'],
    ],
  );
  assert.equal(file.preamble[0]?.keyword, 'ARG');
  assert.equal(file.stages[0]?.instructions[0]?.args, 'x && y');
  assert.deepEqual(imageReference('gcr.io/x/y:1.2@sha256:ab'), {
    name: 'gcr.io/x/y',
    tag: '1.2',
    digest: 'sha256:ab',
  });
  assert.deepEqual(imageReference('localhost:5000/y'), { name: 'localhost:5000/y' });
});

test('every stage uses a pinned image tag, never latest', () => {
  const file = loadDockerfile();
  assert.ok(file.stages.length >= 2, 'multi-stage: a build stage and a runtime stage');
  for (const stage of file.stages) {
    const ref = imageReference(stage.image);
    assert.ok(ref.tag ?? ref.digest, `${stage.image} has a tag or digest`);
    assert.notEqual(ref.tag, 'latest', `${stage.image} is not latest`);
  }
});

test('the build stage builds, prunes dev dependencies, and shares libc and Node major with the runtime', () => {
  const file = loadDockerfile();
  const build = file.stages[0]!;
  const runtime = finalStage(file);
  const buildRef = /^node:(\d+)-(bookworm|bullseye)-slim$/.exec(build.image);
  assert.ok(buildRef, `build stage ${build.image} is node:<major>-<debian>-slim`);
  const runtimeRef = /^gcr\.io\/distroless\/nodejs(\d+)-debian(\d+)(:nonroot)?$/.exec(
    runtime.image,
  );
  assert.ok(runtimeRef, `runtime stage ${runtime.image} is distroless nodejs`);
  assert.ok(['20', '22'].includes(buildRef[1]!), 'a Node.js LTS line');
  // better-sqlite3 is a native addon: it needs the same Node ABI and the same glibc.
  assert.equal(runtimeRef[1], buildRef[1], 'same Node.js major in both stages');
  const debian = { bullseye: '11', bookworm: '12' }[buildRef[2] as 'bookworm' | 'bullseye'];
  assert.equal(runtimeRef[2], debian, 'same Debian release (glibc) in both stages');
  const runs = build.instructions.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  assert.ok(
    runs.some((r) =>
      /npm ci && npx tsc -p deploy\/tsconfig\.image\.json && npm run build:console && npm prune --omit=dev/.test(
        r,
      ),
    ),
    'npm ci, build and prune in one layer',
  );
  const copies = runtime.instructions.filter((i) => i.keyword === 'COPY');
  assert.ok(copies.length > 0);
  for (const c of copies) assert.match(c.args, new RegExp(`--from=${build.name}\\b`));
});

test('the runtime stage runs as a numeric non-root user with only unprivileged ports', () => {
  const runtime = finalStage(loadDockerfile());
  const user = runtime.instructions.findLast((i) => i.keyword === 'USER');
  assert.ok(user, 'the final stage sets USER');
  const match = /^(\d+)(?::(\d+))?$/.exec(user.args);
  assert.ok(match, `USER ${user.args} is numeric (runAsNonRoot can check it)`);
  assert.notEqual(Number(match[1]), 0);
  assert.equal(Number(match[1]), 65532);
  const exposed = runtime.instructions
    .filter((i) => i.keyword === 'EXPOSE')
    .flatMap((i) => i.args.split(/\s+/))
    .map((p) => Number(p.split('/')[0]));
  assert.deepEqual(exposed.sort(), [8443, 9090]);
  for (const port of exposed) assert.ok(port >= 1024, `${port} needs no NET_BIND_SERVICE`);
  const volume = runtime.instructions.find((i) => i.keyword === 'VOLUME');
  assert.deepEqual(volume && execForm(volume.args), ['/var/lib/postern']);
});

test('the health check is declared: none in the image, probes in the manifests', () => {
  const runtime = finalStage(loadDockerfile());
  const health = runtime.instructions.find((i) => i.keyword === 'HEALTHCHECK');
  assert.ok(health, 'HEALTHCHECK is explicit');
  if (health.args !== 'NONE') {
    const cmd = health.args.replace(/^(--\S+\s+)*CMD\s+/, '');
    assert.equal(execForm(cmd)[0], IMAGE_NODE, 'exec form: the image has no shell');
  }
});

test('the entrypoint runs the built CLI and prints the package version', async () => {
  const file = loadDockerfile();
  const runtime = finalStage(file);
  const entry = runtime.instructions.findLast((i) => i.keyword === 'ENTRYPOINT');
  assert.ok(entry);
  assert.deepEqual(execForm(entry.args), [IMAGE_NODE, '/app/dist/src/cli/main.js']);
  const layout = stageImageLayout(file);
  try {
    const { code, stdout, stderr } = await runImage([...layout.entrypoint, '--version'], {
      PATH: process.env.PATH,
      ...layout.env,
    });
    assert.equal(code, 0, stderr);
    assert.equal(stdout.trim(), VERSION);
    const help = await runImage([...layout.entrypoint, 'connector', '--help'], layout.env);
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /--ephemeral/);
  } finally {
    layout.cleanup();
  }
});

test('the build context keeps sources and drops tests and local state', () => {
  const ignore = readFileSync(join(repoRoot(), 'deploy', 'Dockerfile.dockerignore'), 'utf8')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  assert.equal(ignore[0], '*', 'allow-list: everything is excluded first');
  for (const needed of [
    '!package.json',
    '!package-lock.json',
    '!tsconfig.json',
    '!src/',
    '!console/',
  ]) {
    assert.ok(ignore.includes(needed), `${needed} is in the context`);
  }
  assert.ok(!ignore.some((l) => /^!(dist|node_modules|postern-data)/.test(l)));
  const build = loadDockerfile().stages[0]!;
  const copied = build.instructions
    .filter((i) => i.keyword === 'COPY')
    .flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  for (const source of copied) {
    assert.ok(ignore.includes(`!${source}`) || ignore.includes(`!${source}/`), source);
  }
});

test('the build stage compiles from its build context alone: no test, test kit, test/ or bench/ needed', async () => {
  const context = buildContext(['package.json', 'tsconfig.json', 'deploy', 'src', 'test', 'bench']);
  try {
    assert.ok(existsSync(join(context, 'src', 'cli', 'main.ts')), 'the program is in the context');
    assert.ok(!existsSync(join(context, 'test')), 'test/ is left out');
    assert.ok(!existsSync(join(context, 'src', 'tunnel', 'test-kit.ts')), 'test kits are left out');
    assert.ok(!existsSync(join(context, 'src', 'tunnel', 'session.test.ts')), 'tests are left out');
    const tsc = join(context, 'node_modules', 'typescript', 'bin', 'tsc');
    const result = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
      execFile(
        process.execPath,
        [tsc, '-p', join(context, 'deploy', 'tsconfig.image.json'), '--noEmit'],
        { timeout: 180_000 },
        (err, stdout, stderr) =>
          resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
      ),
    );
    assert.equal(result.code, 0, `tsc in the build context:\n${result.stdout}${result.stderr}`);
  } finally {
    rmSync(context, { recursive: true, force: true });
  }
});
