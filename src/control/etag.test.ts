import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { etagOf, ifMatchAccepts, withEtag } from './etag.js';

describe('entity tags', () => {
  test('the tag depends on the content, not on key order or live fields', () => {
    const a = etagOf({ name: 'web', nodes: [{ address: 'a:1' }], owner: 'api' });
    assert.equal(a, etagOf({ owner: 'api', nodes: [{ address: 'a:1' }], name: 'web' }));
    assert.equal(
      a,
      etagOf({ name: 'web', nodes: [{ address: 'a:1' }], owner: 'api', status: { up: 1 } }),
    );
    assert.notEqual(a, etagOf({ name: 'web', nodes: [{ address: 'a:2' }], owner: 'api' }));
    assert.notEqual(
      a,
      etagOf({ name: 'web', nodes: [{ address: 'a:1', weight: 2 }], owner: 'api' }),
    );
    assert.match(a, /^"[A-Za-z0-9_-]{27}"$/);
  });

  test('withEtag adds the tag of the view without its own etag field', () => {
    const view = withEtag({ name: 'x' });
    assert.equal(view.etag, etagOf({ name: 'x' }));
    assert.equal(etagOf(view), view.etag);
  });

  test('If-Match accepts the current tag, a list holding it, a weak form, or *', () => {
    const tag = etagOf({ name: 'x' });
    assert.equal(ifMatchAccepts(tag, tag), true);
    assert.equal(ifMatchAccepts(`"other", ${tag}`, tag), true);
    assert.equal(ifMatchAccepts(`W/${tag}`, tag), true);
    assert.equal(ifMatchAccepts('*', tag), true);
    assert.equal(ifMatchAccepts('"other"', tag), false);
    assert.equal(ifMatchAccepts('*', undefined), false, 'nothing to match when the object is gone');
  });
});
