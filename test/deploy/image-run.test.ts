import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { SpawnedProcess } from '../e2e/support/spawned-process.js';
import { loadDockerfile, stageImageLayout, type ImageLayout } from './image-layout.js';
import { OVERLAYS, podSpecOf, renderKustomization, type Container } from './kustomize-render.js';

let layout: ImageLayout;
const containers = new Map<string, Container>();

before(async () => {
  layout = stageImageLayout(loadDockerfile());
  for (const overlay of OVERLAYS) {
    const objects = await renderKustomization(join('overlays', overlay));
    const pod = objects.map(podSpecOf).find((p) => p !== undefined);
    assert.ok(pod, `${overlay} has a workload`);
    containers.set(overlay, pod.containers[0]!);
  }
});

after(() => layout.cleanup());

function container(overlay: string): Container {
  const c = containers.get(overlay);
  assert.ok(c);
  return c;
}

function help(args: readonly string[]): Promise<string> {
  const [cmd, ...rest] = [...layout.entrypoint, ...args, '--help'];
  return new Promise((resolve, reject) => {
    execFile(cmd, rest, { env: layout.env, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${args.join(' ')} --help failed: ${stderr}`));
      else resolve(stdout);
    });
  });
}

/** Every file under `dir` with its size and modification time, to detect writes. */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, depth: number): void => {
    if (depth > 12) return; // node_modules is a symbolic link, so the tree is shallow
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path, depth + 1);
      const st = statSync(path, { throwIfNoEntry: false });
      out.set(relative(dir, path), st ? `${st.size}:${st.mtimeMs}` : 'dangling');
    }
  };
  walk(dir, 0);
  return out;
}

for (const overlay of OVERLAYS) {
  test(`the ${overlay} container's command and flags exist in the image's CLI`, async () => {
    const args = container(overlay).args ?? [];
    assert.ok(args[0], 'a subcommand');
    const text = await help([args[0]]);
    const flags = args.filter((a) => a.startsWith('--'));
    for (const flag of flags) assert.ok(text.includes(flag), `${args[0]} has ${flag}`);
  });
}

test('the edge, started like its container, answers the probe paths and writes only its data dir', async () => {
  const c = container('edge');
  const probes = [c.startupProbe, c.livenessProbe, c.readinessProbe];
  const paths = probes.map((p) => p?.httpGet?.path).filter((p) => p !== undefined);
  assert.equal(paths.length, 3);
  const scratch = mkdtempSync(join(tmpdir(), 'postern-edge-run-'));
  const dataDir = join(scratch, 'data');
  const configDir = join(scratch, 'config');
  mkdirSync(configDir);
  // The manifest mounts the admin token Secret as a file; here a scratch file stands in for it.
  const adminToken = randomBytes(24).toString('hex');
  const adminTokenFile = join(scratch, 'admin-token');
  writeFileSync(adminTokenFile, `${adminToken}\n`);
  const manifestEnv = Object.fromEntries(
    (c.env ?? []).flatMap((e) => (e.value !== undefined ? [[e.name, e.value]] : [])),
  );
  // Same variables as the manifest, but loopback ports and scratch directories on this machine.
  const env: Record<string, string | undefined> = {
    ...layout.env,
    ...manifestEnv,
    POSTERN_DATA_DIR: dataDir,
    POSTERN_CONFIG_DIR: configDir,
    POSTERN_TUNNEL_LISTEN: '127.0.0.1:0',
    POSTERN_ADMIN_LISTEN: '127.0.0.1:0',
    POSTERN_ADVERTISE_ADDRESS: '127.0.0.1:8443',
  };
  assert.ok(env.POSTERN_ADMIN_TOKEN_FILE, 'the manifest reads the admin token from a file');
  env.POSTERN_ADMIN_TOKEN_FILE = adminTokenFile;
  const before = snapshot(layout.root);
  const [cmd, ...rest] = layout.entrypoint;
  const edge = new SpawnedProcess('edge', cmd!, [...rest, ...(c.args ?? [])], env);
  try {
    const ready = await edge.waitFor((l) => l.text.startsWith('postern edge ready'), {
      timeoutMs: 20_000,
      what: 'the ready line',
    });
    const adminUrl = /admin (http:\/\/\S+?)[ ,]/.exec(ready.text)?.[1];
    assert.ok(adminUrl, ready.text);
    for (const path of paths) {
      const res = await fetch(new URL(path, adminUrl), { signal: AbortSignal.timeout(5_000) });
      assert.equal(res.status, 200, `${path} answers 200`);
      await res.body?.cancel();
    }
    const api = await fetch(new URL('/api/v1/connectors', adminUrl), {
      headers: { authorization: `Bearer ${adminToken}` },
      signal: AbortSignal.timeout(5_000),
    });
    assert.equal(api.status, 200, 'the token from the mounted file opens the admin API');
    await api.body?.cancel();
  } finally {
    assert.ok(await edge.stop('SIGTERM', 10_000), 'the edge stops on SIGTERM');
  }
  try {
    assert.deepEqual(snapshot(layout.root), before, 'the image files are unchanged');
    assert.ok(readdirSync(dataDir).length > 0, 'state lands in the data directory');
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
});
