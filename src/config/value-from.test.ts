import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { ConfigErrors, FILE_REF_CODE } from './errors.js';
import { sourceOf } from './object-source.js';
import { parseDocument } from './parse-document.js';
import type { ConfigProblem } from './problems.js';
import { fileRefProblem, normalizeFileRef } from './value-from.js';

const CERT = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const KEY = '-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n';

/** A reader over an in-memory tree that records what was asked for. */
function reader(files: Record<string, string>) {
  const asked: string[] = [];
  const read = (name: string): string => {
    asked.push(name);
    const text = files[name];
    if (text === undefined) throw ConfigErrors.fileRef(name, 'no such file');
    return text;
  };
  return { read, asked };
}

function problemsOf(text: string, read?: (name: string) => string): readonly ConfigProblem[] {
  try {
    parseDocument(text, { fileName: 'refs.yaml', readFileRef: read });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems;
  }
  assert.fail('the document was accepted');
}

const ref = (name: string) => `{valueFrom: {fileRef: {name: "${name}"}}}`;

test('valueFrom file references replace any text value with the file content', () => {
  const files = reader({
    'tls/app/tls.crt': CERT,
    'tls/app/tls.key': KEY,
    'data/host': 'h.internal',
  });
  const doc = parseDocument(
    [
      'version: 1',
      'certificates:',
      `  - {name: app, cert: ${ref('tls/app/tls.crt')}, key: ${ref('./tls//app/tls.key')}}`,
      'monitors:',
      `  - {name: m, type: http, host_header: ${ref('data/host')}}`,
    ].join('\n'),
    { fileName: 'refs.yaml', readFileRef: files.read },
  );
  assert.equal(doc.certificates[0]?.cert, CERT);
  assert.equal(doc.certificates[0]?.key, KEY);
  assert.equal(doc.monitors[0]?.host_header, 'h.internal');
  assert.deepEqual(files.asked, ['tls/app/tls.crt', 'tls/app/tls.key', 'data/host']);
  const source = sourceOf(doc.certificates[0]);
  assert.equal(source?.fileRef(['key']), 'tls/app/tls.key');
  assert.equal(source?.fileRef(['name']), undefined);
});

test('absolute paths, ".." and backslashes are refused before any file is read', () => {
  const files = reader({});
  const problems = problemsOf(
    [
      'version: 1',
      'certificates:',
      `  - name: a`,
      `    cert: ${ref('/etc/ssl/cert.pem')}`,
      `    key: ${ref('tls/../../secret.key')}`,
      `  - name: b`,
      `    cert: ${ref('tls\\\\b.crt')}`,
      `    key: ${ref('')}`,
    ].join('\n'),
    files.read,
  );
  assert.deepEqual(files.asked, []);
  assert.deepEqual(
    problems.map((p) => [p.line, p.column, p.path, p.code]),
    [
      [4, 40, 'certificates[0].cert.valueFrom.fileRef.name', FILE_REF_CODE],
      [5, 39, 'certificates[0].key.valueFrom.fileRef.name', FILE_REF_CODE],
      [7, 40, 'certificates[1].cert.valueFrom.fileRef.name', FILE_REF_CODE],
      [8, 39, 'certificates[1].key.valueFrom.fileRef.name', FILE_REF_CODE],
    ],
  );
  assert.match(problems[0]!.message, /is absolute/);
  assert.match(problems[1]!.message, /climbs out with "\.\."/);
  assert.match(problems[2]!.message, /separate directories with "\/"/);
  assert.match(problems[3]!.message, /empty/);
});

test('malformed references, unreadable files and missing readers are reported once each', () => {
  const files = reader({ 'data/rule': 'x' });
  const problems = problemsOf(
    [
      'version: 1',
      'monitors:',
      '  - name: a',
      '    host_header: {valueFrom: {secretRef: {name: s}}}',
      '  - name: b',
      '    host_header: {valueFrom: {fileRef: {name: data/rule}}, other: 1}',
      '  - name: c',
      '    host_header: {valueFrom: {fileRef: {name: data/missing}}}',
      '  - name: d',
      '    host_header: {valueFrom: {fileRef: {name: data/rule, key: k}}}',
    ].join('\n'),
    files.read,
  );
  assert.deepEqual(
    problems.map((p) => `${p.line} ${p.path}: ${p.message}`),
    [
      '4 monitors[0].host_header.valueFrom: valueFrom supports fileRef only; write it as valueFrom: { fileRef: { name: <path relative to the configuration directory> } }',
      '6 monitors[1].host_header: valueFrom must be the only key of its mapping (also found: other)',
      '8 monitors[2].host_header.valueFrom.fileRef.name: ' +
        ConfigErrors.fileRef('data/missing', 'no such file').message,
      '10 monitors[3].host_header.valueFrom.fileRef: fileRef takes exactly one field, name; write it as valueFrom: { fileRef: { name: <path relative to the configuration directory> } }',
    ],
  );
  const without = problemsOf(`version: 1\nmonitors: [{name: a, host_header: ${ref('h')}}]`);
  assert.deepEqual(
    without.map((p) => p.message),
    ['valueFrom file references resolve only in documents read from a configuration directory'],
  );
});

test('a schema problem in a value read from a file names that file', () => {
  const files = reader({ 'tls/bad.crt': 'garbage', 'tls/k': KEY });
  const problems = problemsOf(
    `version: 1\ncertificates: [{name: c, cert: ${ref('tls/bad.crt')}, key: ${ref('tls/k')}}]`,
    files.read,
  );
  assert.equal(problems.length, 1);
  assert.equal(problems[0]!.path, 'certificates[0].cert');
  assert.match(
    problems[0]!.message,
    /must hold a PEM certificate.*\(value read from "tls\/bad\.crt"\)$/,
  );
});

test('file reference names are checked and normalized without touching the disk', () => {
  assert.equal(fileRefProblem('tls/app/tls.crt'), undefined);
  assert.equal(fileRefProblem('..data/pools.yaml'), undefined, '"..data" is a name, not ".."');
  assert.match(fileRefProblem('..') ?? '', /climbs out/);
  assert.match(fileRefProblem('C:/x') ?? '', /absolute/);
  assert.match(fileRefProblem('a\0b') ?? '', /NUL/);
  assert.equal(normalizeFileRef('./a//b/./c'), 'a/b/c');
});
