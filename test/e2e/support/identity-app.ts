// The private web app of the browser access test, run inside the site namespace:
// `node identity-app.js <port> <jwks.json> <audience> <issuer>`. It answers every request with
// JSON: the identity headers it received and what verifying X-Postern-Assertion with the
// edge's published JWK set gave (the way a real application would check it).
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { createLocalJWKSet, jwtVerify, type JSONWebKeySet } from 'jose';

const [port, jwksFile, audience, issuer] = process.argv.slice(2);
const keys = createLocalJWKSet(JSON.parse(readFileSync(jwksFile ?? '', 'utf8')) as JSONWebKeySet);

async function verify(token: string | undefined): Promise<unknown> {
  if (!token) return { ok: false, error: 'no assertion' };
  try {
    const { payload } = await jwtVerify(token, keys, {
      audience: audience ?? '',
      issuer: issuer ?? '',
      algorithms: ['ES256'],
    });
    return { ok: true, sub: payload.sub, email: payload['email'], groups: payload['groups'] };
  } catch (err) {
    return { ok: false, error: (err as Error).message };
  }
}

const server = http.createServer((req, res) => {
  const header = (name: string) => req.headers[name] as string | undefined;
  void verify(header('x-postern-assertion')).then((assertion) => {
    const body = JSON.stringify({
      path: req.url,
      user: header('x-postern-user') ?? null,
      email: header('x-postern-email') ?? null,
      groups: header('x-postern-groups') ?? null,
      cookie: header('cookie') ?? null,
      assertion,
    });
    res.writeHead(200, { 'content-type': 'application/json' }).end(body);
  });
});
server.listen({ host: '127.0.0.1', port: Number(port) }, () => {
  process.stderr.write(`${JSON.stringify({ msg: 'app listening', port: Number(port) })}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
