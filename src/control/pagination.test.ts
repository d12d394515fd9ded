import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { decodePageToken, encodePageToken, paginate, pageLimit } from './pagination.js';

const named = (...names: string[]) => names.map((name) => ({ name }));
const key = (x: { name: string }) => x.name;

/** Walks every page of `all` and returns the names seen, bounded in pages. */
function walk(all: { name: string }[], limit: number, mutate?: (page: number) => void): string[] {
  const seen: string[] = [];
  let token: string | undefined;
  for (let page = 0; page < 100; page++) {
    const result = paginate(all, { limit: String(limit), page_token: token }, { list: 'l', key });
    seen.push(...result.items.map(key));
    token = result.next_page_token;
    if (token === undefined) return seen;
    mutate?.(page);
  }
  throw new Error('pagination did not end');
}

describe('pagination', () => {
  test('limit defaults to 100 and must be an integer from 1 to 1000', () => {
    assert.equal(pageLimit({}), 100);
    assert.equal(pageLimit({ limit: '1000' }), 1000);
    for (const bad of ['0', '1001', '2.5', 'ten', '-1']) {
      assert.throws(() => pageLimit({ limit: bad }), { code: 'POSTERN_ERR_BAD_REQUEST' });
    }
  });

  test('pages cover a list sorted by key exactly once; the last page has no token', () => {
    const all = named('e', 'a', 'd', 'c', 'b');
    assert.deepEqual(walk(all, 2), ['a', 'b', 'c', 'd', 'e']);
    const last = paginate(all, { limit: '5' }, { list: 'l', key });
    assert.equal(last.next_page_token, undefined);
    assert.equal('next_page_token' in last, false);
    const first = paginate(all, { limit: '4' }, { list: 'l', key });
    assert.equal(first.items.length, 4);
    assert.equal(typeof first.next_page_token, 'string');
  });

  test('items added or removed between pages are neither repeated nor skipped', () => {
    const all = named('a', 'b', 'c', 'd', 'e', 'f');
    // After the first page (a, b): b is deleted and an item sorting before the cursor appears.
    const seen = walk(all, 2, (page) => {
      if (page !== 0) return;
      all.splice(1, 1);
      all.push({ name: 'aa' });
    });
    assert.deepEqual(seen, ['a', 'b', 'c', 'd', 'e', 'f']);
  });

  test('a given order is kept and resumes at the old position when the last item is gone', () => {
    const all = named('z', 'm', 'a', 'q');
    const first = paginate(all, { limit: '2' }, { list: 'l', key, order: 'given' });
    assert.deepEqual(first.items.map(key), ['z', 'm']);
    const rest = paginate(
      named('z', 'a', 'q'),
      { limit: '2', page_token: first.next_page_token },
      { list: 'l', key, order: 'given' },
    );
    assert.deepEqual(rest.items.map(key), ['q']);
  });

  test('a token of another list, or not a token at all, is POSTERN_ERR_INVALID_PAGE_TOKEN', () => {
    const token = encodePageToken('pools', 'web');
    assert.deepEqual(decodePageToken('pools', token), { key: 'web', index: 0 });
    for (const bad of [encodePageToken('rules', 'web'), 'not-a-token', '', 'e30']) {
      assert.throws(() => decodePageToken('pools', bad), {
        code: 'POSTERN_ERR_INVALID_PAGE_TOKEN',
      });
    }
  });
});
