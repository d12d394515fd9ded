import assert from 'node:assert/strict';
import test from 'node:test';
import { SessionEnds } from './session-ends.js';

test('a session ended after a mark is reported; before it, or another session, is not', () => {
  const ends = new SessionEnds();
  ends.ended('old');
  const mark = ends.mark();
  assert.equal(ends.endedAfter('old', mark), false, 'ended before the mark');
  assert.equal(ends.endedAfter('k', mark), false);
  ends.ended('k');
  assert.equal(ends.endedAfter('k', mark), true);
  assert.equal(ends.endedAfter('other', mark), false);
  assert.equal(ends.endedAfter('k', ends.mark()), false, 'not after a later mark');
});

test('keys it had to forget, and lost notifications, count as "maybe ended"', () => {
  const ends = new SessionEnds({ maxKept: 2 });
  const mark = ends.mark();
  ends.ended('a');
  ends.ended('b');
  ends.ended('c');
  // 'a' was forgotten to keep two: whatever was marked before its end may have ended.
  assert.equal(ends.endedAfter('never-ended', mark), true);
  const later = ends.mark();
  assert.equal(ends.endedAfter('never-ended', later), false);
  ends.lost();
  assert.equal(ends.endedAfter('never-ended', later), true, 'a resync: anything may have ended');
  assert.equal(ends.endedAfter('never-ended', ends.mark()), false);
});
