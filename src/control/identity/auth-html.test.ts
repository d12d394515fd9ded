import assert from 'node:assert/strict';
import { test } from 'node:test';
import { deniedPage } from './auth-html.js';

const facts = { user: 'bob@example.com', groups: ['staff'], virtualServer: 'wiki' };

test('the denied page says default deny once, and names a denying rule with its reason', () => {
  const byDefault = deniedPage({
    ...facts,
    rule: undefined,
    reason: 'no access rule matched, so access is denied by default',
  });
  assert.equal(byDefault.status, 403);
  assert.equal(byDefault.body.match(/denied by default/g)?.length, 1);
  const byRule = deniedPage({ ...facts, rule: 'no-contractors', reason: 'group staff is denied' });
  assert.match(
    byRule.body,
    /denied by the rule <code>no-contractors<\/code>\. \(group staff is denied\)/,
  );
  assert.match(byRule.body, /bob@example\.com/);
});
