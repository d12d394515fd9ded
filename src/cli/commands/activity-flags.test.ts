import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Command } from 'commander';
import { isPosternError } from '../../core/index.js';
import { activityOptions, addActivityFlags } from './activity-flags.js';

function parse(args: string[]) {
  const command = addActivityFlags(new Command('edge')).exitOverride();
  command.parse(args, { from: 'user' });
  return activityOptions(command.opts());
}

test('activity retention flags become edge options; absent ones leave the defaults', () => {
  assert.deepEqual(
    parse(['--activity-retention-entries', '5000', '--activity-retention-days', '7']),
    {
      activityRetentionEntries: 5000,
      activityRetentionDays: 7,
    },
  );
  assert.deepEqual(parse([]), {
    activityRetentionEntries: undefined,
    activityRetentionDays: undefined,
  });
});

test('a retention that is not a whole number above 0 is refused naming the flag', () => {
  for (const bad of ['0', '-3', '1.5', 'many'])
    assert.throws(
      () => parse(['--activity-retention-days', bad]),
      (err: unknown) =>
        isPosternError(err, 'POSTERN_ERR_INVALID_ARGUMENT') &&
        /--activity-retention-days/.test((err as Error).message),
    );
});
