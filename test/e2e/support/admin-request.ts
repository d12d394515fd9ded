// One admin API request, made from inside the edge namespace (the admin API listens on that
// namespace's 127.0.0.1): `node admin-request.js <METHOD> <url> [json body]`, bearer token in
// the environment variable POSTERN_ADMIN_TOKEN. Prints {"status":n,"body":...} on stdout.
const [method, url, body] = process.argv.slice(2);
if (method === undefined || url === undefined) {
  process.stderr.write('usage: admin-request <METHOD> <url> [json body]\n');
  process.exit(2);
}
const response = await fetch(url, {
  method,
  signal: AbortSignal.timeout(10_000),
  headers: {
    authorization: `Bearer ${process.env.POSTERN_ADMIN_TOKEN ?? ''}`,
    ...(body === undefined ? {} : { 'content-type': 'application/json' }),
  },
  ...(body === undefined ? {} : { body }),
});
const text = await response.text();
let parsed: unknown = text;
try {
  parsed = text === '' ? null : JSON.parse(text);
} catch {
  // Not JSON: report the raw text so the test shows what came back.
}
process.stdout.write(`${JSON.stringify({ status: response.status, body: parsed })}\n`);
