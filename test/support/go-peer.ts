import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, rename, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { promisify } from 'node:util';
import { repoRoot } from './repo-root.js';

const run = promisify(execFile);

/** Where Debian's golang-1.19-go and golang-github-hashicorp-yamux-dev install. */
const debianGo = '/usr/lib/go-1.19/bin/go';
const gopath = '/usr/share/gocode';
const yamuxSource = join(gopath, 'src/github.com/hashicorp/yamux');

const setupHint =
  'The Go toolchain and hashicorp/yamux source are needed for the yamux interop tests: ' +
  'run scripts/setup-test-host.sh (installs golang-1.19-go and golang-github-hashicorp-yamux-dev).';

/**
 * Finds the Go binary: $POSTERN_GO when set (and then only it), else Debian's go-1.19, else
 * `go` on PATH. Throws with a setup hint when none exists or the yamux source is missing.
 */
export function findGo(): string {
  const override = process.env['POSTERN_GO'];
  const candidates = override !== undefined && override !== '' ? [override] : [debianGo];
  if (candidates[0] === debianGo) {
    for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
      if (dir !== '') candidates.push(join(dir, 'go'));
    }
  }
  const go = candidates.find((c) => existsSync(c));
  if (go === undefined) throw new Error(`Go toolchain not found. ${setupHint}`);
  if (!existsSync(join(yamuxSource, 'session.go'))) {
    throw new Error(`hashicorp/yamux source not found in ${yamuxSource}. ${setupHint}`);
  }
  return go;
}

/** Hash of the peer source, the yamux source and the toolchain path: the build cache key. */
function sourceHash(peerDir: string, go: string): string {
  const h = createHash('sha256').update(go);
  for (const dir of [peerDir, yamuxSource]) {
    for (const name of readdirSync(dir)
      .filter((n) => n.endsWith('.go'))
      .sort()) {
      h.update(name).update(readFileSync(join(dir, name)));
    }
  }
  return h.digest('hex').slice(0, 16);
}

/**
 * Builds test/peers/<name> with Go (offline, GOPATH mode) and returns the binary path.
 * The binary is cached under the OS temp dir by source hash, so repeated runs do not rebuild.
 */
export async function buildGoPeer(name = 'yamux-peer'): Promise<string> {
  const go = findGo();
  const root = repoRoot();
  const peerDir = join(root, 'test/peers', name);
  const cacheDir = join(tmpdir(), 'postern-go-peers', `${name}-${sourceHash(peerDir, go)}`);
  const binary = join(cacheDir, name);
  if (existsSync(binary)) return binary;
  await mkdir(cacheDir, { recursive: true });
  // Build to a unique name then rename, so concurrent builders never see half a binary.
  const partial = `${binary}.${process.pid}.partial`;
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    GOPATH: gopath,
    GO111MODULE: 'off',
    GOCACHE: join(tmpdir(), 'postern-go-cache'),
  };
  // An inherited GOFLAGS (e.g. -mod=vendor) would break a GOPATH-mode build.
  delete env['GOFLAGS'];
  try {
    await run(go, ['build', '-o', partial, `./test/peers/${name}`], {
      cwd: root,
      env,
      timeout: 180_000,
    });
    await rename(partial, binary);
  } catch (err) {
    await rm(partial, { force: true });
    const stderr = (err as { stderr?: string }).stderr ?? '';
    throw new Error(`building the Go peer ${name} failed: ${stderr || String(err)}`, {
      cause: err,
    });
  }
  return binary;
}
