import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { MAX_ERROR_PAGE_BYTES } from './error-pages.js';
import { parseDocument } from './parse-document.js';

function doc(server: readonly string[], protocol = 'http'): string {
  return [
    'version: 1',
    'pools:',
    '  - name: web',
    '    nodes: [{ address: 10.0.0.1:80 }]',
    'virtual_servers:',
    '  - name: front',
    `    protocol: ${protocol}`,
    '    listen: 0.0.0.0:8080',
    '    pool: web',
    ...server,
    '',
  ].join('\n');
}

/** The problems of an invalid document as `line:column path — message`. */
function problems(text: string): string[] {
  try {
    parseDocument(text, { fileName: 'site.yaml' });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems.map(
      (p) => `${p.line}:${p.column} ${p.path} — ${p.message}`,
    );
  }
  assert.fail('the document was accepted');
}

test('error_detail defaults to minimal; error_pages default their content type', () => {
  const parsed = parseDocument(
    doc(['    error_pages:', '      "503":', '        body: "<h1>Later</h1>"']),
    { fileName: 'site.yaml' },
  );
  const vs = parsed.virtual_servers[0];
  assert.equal(vs?.error_detail, 'minimal');
  assert.deepEqual(vs?.error_pages, {
    '503': { body: '<h1>Later</h1>', content_type: 'text/html; charset=utf-8' },
  });
});

test('a page body can come from a file', () => {
  const parsed = parseDocument(
    doc([
      '    error_detail: full',
      '    error_pages:',
      '      "502": { body: { valueFrom: { fileRef: { name: pages/502.html } } }, content_type: text/html }',
    ]),
    {
      fileName: 'site.yaml',
      readFileRef: (name) => (name === 'pages/502.html' ? '<p>down</p>' : ''),
    },
  );
  assert.equal(parsed.virtual_servers[0]?.error_pages?.['502']?.body, '<p>down</p>');
  assert.equal(parsed.virtual_servers[0]?.error_detail, 'full');
});

test('a status the edge never answers itself is refused at its line', () => {
  assert.deepEqual(
    problems(
      doc(['    error_pages:', '      "502": { body: ok }', '      "418": { body: teapot }']),
    ),
    [
      '12:14 virtual_servers[0].error_pages["418"] — is not a status Postern answers with its own ' +
        'error page; use one of 400, 405, 408, 414, 431, 501, 502, 503, 504, 505',
    ],
  );
});

test('a page over 64 KiB and an unknown page field are refused', () => {
  const big = 'é'.repeat(MAX_ERROR_PAGE_BYTES / 2 + 1);
  const found = problems(
    doc([
      '    error_pages:',
      `      "503": { body: "${big}" }`,
      '      "504": { body: x, type: y }',
    ]),
  );
  assert.equal(found.length, 2, found.join('\n'));
  assert.match(
    found[0] ?? '',
    /^11:\d+ virtual_servers\[0\]\.error_pages\["503"\]\.body — is larger than 65536 bytes/,
  );
  assert.match(
    found[1] ?? '',
    /^12:\d+ virtual_servers\[0\]\.error_pages\["504"\]\.type — unknown field "type"/,
  );
});

test('error_pages and error_detail full are refused on tcp and tls servers', () => {
  assert.deepEqual(
    problems(doc(['    error_detail: full', '    error_pages: { "502": { body: x } }'], 'tcp')),
    [
      '10:19 virtual_servers[0].error_detail — applies to http and https only, not tcp',
      '11:18 virtual_servers[0].error_pages — apply to http and https only, not tcp',
    ],
  );
});
