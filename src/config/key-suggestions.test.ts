import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isPosternError } from '../core/index.js';
import type { ConfigProblemsError } from './errors.js';
import { editDistance, nearestKey } from './key-suggestions.js';
import { inspectDocument, parseDocument } from './parse-document.js';
import type { ConfigProblem } from './problems.js';

function problemsOf(text: string): readonly ConfigProblem[] {
  try {
    parseDocument(text, { fileName: 'site.yaml' });
  } catch (err) {
    assert.ok(isPosternError(err, 'POSTERN_ERR_CONFIG_INVALID'), String(err));
    return (err as ConfigProblemsError).problems;
  }
  assert.fail('parseDocument accepted an invalid document');
}

test('edit distance counts inserts, deletes, substitutions and neighbour swaps as one edit', () => {
  assert.equal(editDistance('listen', 'listen'), 0);
  assert.equal(editDistance('lsiten', 'listen'), 1, 'a swap');
  assert.equal(editDistance('listn', 'listen'), 1, 'a deletion');
  assert.equal(editDistance('listenn', 'listen'), 1, 'an insertion');
  assert.equal(editDistance('lusten', 'listen'), 1, 'a substitution');
  assert.equal(editDistance('', 'pool'), 4);
  assert.equal(editDistance('pool', ''), 4);
  assert.equal(editDistance('kitten', 'sitting'), 3);
  assert.equal(editDistance('ca', 'abc'), 3, 'optimal string alignment edits no substring twice');
});

test('the nearest allowed key is suggested only when it is a likely misspelling', () => {
  const allowed = ['name', 'listen', 'pool', 'protocol', 'routes', 'rules', 'enabled'];
  assert.equal(nearestKey('lsiten', allowed), 'listen');
  assert.equal(nearestKey('Listen', allowed), 'listen', 'case does not count as an edit');
  assert.equal(nearestKey('protcol', allowed), 'protocol');
  assert.equal(nearestKey('enable', allowed), 'enabled');
  assert.equal(nearestKey('backend', allowed), undefined, 'nothing close: no wild guess');
  assert.equal(nearestKey('lxsxxn', allowed), undefined, 'three edits is too far');
  assert.equal(nearestKey('pl', allowed), undefined, 'two edits on two letters is a guess');
  assert.equal(nearestKey('rule', allowed), 'rules');
  assert.equal(nearestKey('rotes', ['routes', 'rates']), undefined, 'a tie suggests nothing');
  assert.equal(nearestKey('lsiten', []), undefined);
});

test('an unknown key in a document names the allowed key it misspells, at its own position', () => {
  const text = [
    'version: 1', //                                        1
    'pools:', //                                            2
    '  - {name: web, nodes: [{address: "10.0.0.1:80"}]}', // 3
    'virtual_servers:', //                                  4
    '  - name: web', //                                     5
    '    lsiten: 127.0.0.1:8080', //                        6
    '    pool: web', //                                     7
    '    backend: x', //                                    8
  ].join('\n');
  const problems = problemsOf(text).map((p) => `${p.line}:${p.column} ${p.path} — ${p.message}`);
  assert.deepEqual(problems, [
    '5:5 virtual_servers[0].listen — is required',
    '6:5 virtual_servers[0].lsiten — unknown field "lsiten"; did you mean "listen"?',
    '8:5 virtual_servers[0].backend — unknown field "backend"; remove it or correct its spelling',
  ]);
});

test('a key the mapping already has is never suggested, and top-level keys are suggested too', () => {
  const text = [
    'version: 1',
    'virtual_server: []',
    'pools:',
    '  - name: web',
    '    nodes: [{address: "10.0.0.1:80", weight: 2, wieght: 3}]',
  ].join('\n');
  assert.deepEqual(
    problemsOf(text).map((p) => [p.path, p.message]),
    [
      ['virtual_server', 'unknown field "virtual_server"; did you mean "virtual_servers"?'],
      ['pools[0].nodes[0].wieght', 'unknown field "wieght"; remove it or correct its spelling'],
    ],
  );
});

test('a document with problems still yields its sound objects and every name it declares', () => {
  const text = [
    'version: 1',
    'pools:',
    '  - {name: web, nodes: [{address: "10.0.0.1:80"}]}',
    '  - {name: api, nodes: [{address: "10.0.0.2:80"}], algorithm: fastest}',
    '  - {nodes: [{address: "10.0.0.3:80"}]}',
    'monitors:',
    '  - {name: 42, type: tcp}',
  ].join('\n');
  const result = inspectDocument(text, { fileName: 'site.yaml' });
  assert.equal(result.doc, undefined);
  assert.ok(result.problems.length >= 3, JSON.stringify(result.problems));
  assert.deepEqual(
    result.parts?.pools.map((p) => [p.name, p.object?.nodes[0]?.address]),
    [
      ['web', '10.0.0.1:80'],
      ['api', undefined],
    ],
  );
  assert.deepEqual(
    result.parts?.monitors.map((m) => [m.name, m.object]),
    [['42', undefined]],
  );
  const web = result.parts?.pools[0]?.object;
  assert.ok(web !== undefined && Object.isFrozen(web));
});

test('a document whose objects cannot be known yields no parts', () => {
  const syntax = inspectDocument('version: 1\npools: [\n', { fileName: 'a.yaml' });
  assert.equal(syntax.parts, undefined);
  assert.ok(syntax.problems.length > 0);
  const notAList = inspectDocument('version: 1\npools: {name: web}\n', { fileName: 'a.yaml' });
  assert.equal(notAList.parts, undefined);
  const sound = inspectDocument('version: 1\npools: []\n', { fileName: 'a.yaml' });
  assert.deepEqual(sound.problems, []);
  assert.deepEqual(sound.parts?.pools, []);
});
