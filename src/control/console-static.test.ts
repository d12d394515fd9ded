import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { consoleRoutes } from './console-static.js';

async function withConsole(
  files: Record<string, string>,
  body: (app: FastifyInstance, dir: string) => Promise<void>,
): Promise<void> {
  const parent = await mkdtemp(join(tmpdir(), 'postern-console-static-'));
  const dir = join(parent, 'console');
  await mkdir(join(dir, 'assets'), { recursive: true });
  // A file beside the console that no request may reach.
  await writeFile(join(parent, 'secret.txt'), 'do not serve');
  for (const [name, text] of Object.entries(files)) await writeFile(join(dir, name), text);
  const app = Fastify();
  await app.register(consoleRoutes, { dir });
  try {
    await body(app, dir);
  } finally {
    await app.close();
    await rm(parent, { recursive: true, force: true });
  }
}

const BUILT = {
  'index.html': '<!doctype html><title>console</title>',
  'assets/index-abc123.js': 'console.log(1)',
  'assets/index-abc123.css': 'body{}',
};

test('/ redirects to /console/ and /console/ serves index.html, revalidated every time', async () => {
  await withConsole(BUILT, async (app) => {
    const root = await app.inject({ url: '/' });
    assert.equal(root.statusCode, 302);
    assert.equal(root.headers.location, '/console/');
    const bare = await app.inject({ url: '/console' });
    assert.equal(bare.headers.location, '/console/');
    const index = await app.inject({ url: '/console/' });
    assert.equal(index.statusCode, 200);
    assert.equal(index.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(index.headers['cache-control'], 'no-cache');
    assert.match(String(index.headers['content-security-policy']), /default-src 'self'/);
    assert.equal(index.body, BUILT['index.html']);
  });
});

test('hashed assets are served with their content type and cached as immutable', async () => {
  await withConsole(BUILT, async (app) => {
    const js = await app.inject({ url: '/console/assets/index-abc123.js' });
    assert.equal(js.statusCode, 200);
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.headers['cache-control'], 'public, max-age=31536000, immutable');
    assert.equal(js.headers['x-content-type-options'], 'nosniff');
    assert.equal(js.body, BUILT['assets/index-abc123.js']);
    const css = await app.inject({ url: '/console/assets/index-abc123.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    const head = await app.inject({ method: 'HEAD', url: '/console/assets/index-abc123.css' });
    assert.equal(head.statusCode, 200);
  });
});

test('client routes fall back to index.html but missing files are 404', async () => {
  await withConsole(BUILT, async (app) => {
    for (const route of ['/console/connectors', '/console/groups/east']) {
      const res = await app.inject({ url: route });
      assert.equal(res.statusCode, 200, route);
      assert.equal(res.body, BUILT['index.html'], route);
    }
    const missing = await app.inject({ url: '/console/assets/index-gone.js' });
    assert.equal(missing.statusCode, 404);
    assert.doesNotMatch(missing.body, /doctype/);
  });
});

test('paths that leave the console directory are refused', async () => {
  await withConsole(BUILT, async (app) => {
    for (const url of [
      '/console/../secret.txt',
      '/console/..%2fsecret.txt',
      '/console/%2e%2e/secret.txt',
      '/console/assets/..%2f..%2fsecret.txt',
      '/console/..%5csecret.txt',
      '/console/index.html%00.js',
    ]) {
      const res = await app.inject({ url });
      assert.notEqual(res.statusCode, 200, url);
      assert.doesNotMatch(res.body, /do not serve/, url);
    }
  });
});

test('an installation without a built console says how to build it', async () => {
  await withConsole({}, async (app, dir) => {
    const res = await app.inject({ url: '/console/' });
    assert.equal(res.statusCode, 404);
    assert.match(res.body, /not built/);
    assert.ok(res.body.includes(dir));
  });
});
