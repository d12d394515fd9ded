import { readFile, stat } from 'node:fs/promises';
import { extname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyPluginCallback, FastifyReply, FastifyRequest } from 'fastify';

/** Where the built web console sits in an installed package: `dist/console` beside `dist/src`. */
export function defaultConsoleDir(): string {
  return fileURLToPath(new URL('../../console/', import.meta.url));
}

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.woff2': 'font/woff2',
  '.txt': 'text/plain; charset=utf-8',
};

/** The console talks only to its own origin; nothing is loaded from elsewhere. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy':
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
    "connect-src 'self'; object-src 'none'; base-uri 'self'; frame-ancestors 'none'",
};

/** Vite names every file under assets/ by its content hash, so those never change. */
const IMMUTABLE = 'public, max-age=31536000, immutable';
/** index.html names the current hashed files: always revalidate it. */
const REVALIDATE = 'no-cache';

type Wildcard = FastifyRequest<{ Params: { '*': string } }>;

/**
 * Serves the built web console under `/console/` (client routes fall back to index.html) and
 * redirects `/` there; register it with `{ dir }`. Paths that leave `dir` are refused.
 */
export const consoleRoutes: FastifyPluginCallback<{ dir: string }> = (app, { dir }, done) => {
  const root = resolve(dir);
  app.get('/', (_req, reply) => reply.redirect('/console/', 302));
  app.get('/console', (_req, reply) => reply.redirect('/console/', 301));
  app.get('/console/*', async (req: Wildcard, reply) => {
    const relative = req.params['*'];
    const file = insideRoot(root, relative);
    if (file === undefined) return notFound(reply);
    const found = await readFileIfAny(file);
    if (found !== undefined) {
      const cache = relative.startsWith('assets/') ? IMMUTABLE : REVALIDATE;
      return send(reply, found, { type: contentType(file), cache });
    }
    // A name with an extension is a missing file; anything else is a client route.
    if (extname(relative) !== '') return notFound(reply);
    const index = await readFileIfAny(join(root, 'index.html'));
    if (index === undefined) return notBuilt(reply, root);
    return send(reply, index, { type: CONTENT_TYPES['.html']!, cache: REVALIDATE });
  });
  done();
};

/** The file a request path names, or undefined when it would leave the root. */
function insideRoot(root: string, relative: string): string | undefined {
  if (relative.includes('\0') || relative.includes('\\')) return undefined;
  const parts = relative.split('/');
  if (parts.some((p) => p === '..' || p === '.')) return undefined;
  const full = resolve(root, relative === '' ? 'index.html' : relative);
  return full === root || full.startsWith(root + sep) ? full : undefined;
}

async function readFileIfAny(file: string): Promise<Buffer | undefined> {
  try {
    if (!(await stat(file)).isFile()) return undefined;
    return await readFile(file);
  } catch {
    return undefined;
  }
}

function contentType(file: string): string {
  return CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
}

function send(reply: FastifyReply, body: Buffer, o: { type: string; cache: string }): FastifyReply {
  return reply.headers(SECURITY_HEADERS).header('cache-control', o.cache).type(o.type).send(body);
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply
    .code(404)
    .headers(SECURITY_HEADERS)
    .type('text/plain; charset=utf-8')
    .send('Not found.\n');
}

function notBuilt(reply: FastifyReply, root: string): FastifyReply {
  return reply
    .code(404)
    .headers(SECURITY_HEADERS)
    .type('text/plain; charset=utf-8')
    .send(
      `The web console is not built in this installation (nothing at ${root}). ` +
        'Run `npm run build` in the source tree, or pass the built console with consoleDir.\n',
    );
}
