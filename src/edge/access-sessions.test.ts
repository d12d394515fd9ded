import test from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { pino } from 'pino';
import {
  mergeDocuments,
  parseDocument,
  validateConfiguration,
  type Configuration,
} from '../config/index.js';
import { FakeClock } from '../core/index.js';
import { UserTokenAuthority } from '../control/index.js';
import { AccessAuthorizer } from './access-authorizer.js';
import { ACCESS_REVOKED_REASON, OpenAccessSessions } from './access-sessions.js';

function configWith(policyGroups: readonly string[]): Configuration {
  return validateConfiguration(
    mergeDocuments([
      parseDocument(
        [
          'version: 1',
          'connector_groups: [{name: dc}]',
          'applications:',
          '  - {name: db, domains: [db.corp.internal], ports: [5432], connector_groups: [dc]}',
          'access_policies:',
          '  - name: staff',
          '    action: allow',
          `    conditions: {groups: [${policyGroups.join(', ')}], client_types: [tcp_client]}`,
        ].join('\n'),
        { fileName: 'access.yaml' },
      ),
    ]),
  );
}

async function setUp() {
  const tokens = await UserTokenAuthority.fromPem(UserTokenAuthority.generatePem(), {
    issuer: 'e',
  });
  let current = configWith(['eng', 'ops']);
  const notBefore = new Map<string, number>();
  const revocations = {
    revokedSince: (user: { subject: string }, issuedAt: number) =>
      Promise.resolve(issuedAt < (notBefore.get(user.subject) ?? -Infinity)),
  };
  const authorizer = new AccessAuthorizer({ tokens, config: () => current, revocations });
  const clock = new FakeClock();
  const logger = pino({ level: 'silent' });
  const sessions = new OpenAccessSessions({ authorizer, clock, logger, intervalMs: 1000 });
  const cuts: { user: string; reason: string; why: string }[] = [];
  const open = (group: string) => {
    const identity = { subject: group, email: `${group}@x`, groups: [group], idp: 'i' };
    const ask = {
      target: 'db.corp.internal:5432',
      authorization: undefined,
      sourceIp: '192.0.2.1',
    };
    const client = new PassThrough();
    sessions.add(client, {
      sessionId: `acc-${group}`,
      ask,
      identity,
      issuedAt: 5000,
      under: current,
      cut: (reason, why) => cuts.push({ user: identity.email, reason, why }),
    });
    return client;
  };
  return {
    sessions,
    clock,
    cuts,
    open,
    change: (groups: string[]) => (current = configWith(groups)),
    revoke: (subject: string, at: number) => notBefore.set(subject, at),
  };
}

test('a configuration change cuts, within one interval, the open sessions it no longer allows', async () => {
  const { sessions, clock, cuts, open, change } = await setUp();
  assert.equal(clock.pending, 0, 'no timer while no session is open');
  open('eng');
  open('ops');
  assert.equal(clock.pending, 1, 'one timer for all open sessions');
  clock.advance(1000);
  assert.deepEqual(cuts, [], 'an unchanged configuration cuts nothing');

  change(['ops']);
  clock.advance(999);
  assert.deepEqual(cuts, []);
  clock.advance(1);
  assert.equal(cuts.length, 1);
  const [first] = cuts as { user: string; reason: string; why: string }[];
  assert.equal(first?.user, 'eng@x');
  assert.equal(first?.reason, ACCESS_REVOKED_REASON);
  assert.match(first?.why ?? '', /^Access was denied: /);
  sessions.close();
  assert.equal(clock.pending, 0, 'close stops the timer');
});

test('each session is re-authorized once per configuration, and a forgotten one never', async () => {
  const { sessions, cuts, open, change } = await setUp();
  const eng = open('eng');
  sessions.delete(eng);
  change(['nobody']);
  const ops = open('ops');
  // The ops session was opened under the configuration now in force: nothing to re-check.
  assert.equal(sessions.recheck(), 0);
  change(['eng']);
  assert.equal(sessions.recheck(), 1);
  assert.equal(sessions.recheck(), 0, 'the same configuration is not checked twice');
  assert.deepEqual(
    cuts.map((c) => c.user),
    ['ops@x'],
  );
  assert.deepEqual([...sessions.sockets()], [ops]);
  sessions.close();
});

test('a revocation of a user after their token was issued cuts their sessions at the next interval', async () => {
  const { sessions, clock, cuts, open, revoke } = await setUp();
  open('eng');
  open('ops');
  revoke('ops', 4000);
  clock.advance(1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.equal(cuts.length, 0, 'a revocation before the token was issued cuts nothing');
  revoke('eng', 6000);
  clock.advance(1000);
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    cuts.map((c) => [c.user, c.reason]),
    [['eng@x', ACCESS_REVOKED_REASON]],
  );
  assert.match(cuts[0]?.why ?? '', /revoked/);
  sessions.close();
});
