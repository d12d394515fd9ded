// State every edge of an HA set shares through one PostgreSQL: browser sessions (a login on
// one edge works on another, a logout on one ends it everywhere) and an admin's connector drain.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { AUTH_PATHS } from '../../src/control/index.js';
import { openPostgresStore } from '../../src/store/index.js';
import {
  eventually,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  type TestEdge,
} from '../harness/harness.js';
import { startPostgres, type PostgresServer } from '../support/postgres-server.js';

const TIMEOUTS = { idleTimeoutMs: 1_800_000, reauthenticationTimeoutMs: 86_400_000 };
const IDENTITY = { subject: 'alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };

describe('HA shared state over one PostgreSQL', () => {
  let pg: PostgresServer | undefined;
  let a: TestEdge;
  let b: TestEdge;
  before(async () => {
    pg = await startPostgres();
    const url = await pg.createDatabase();
    const openStore = () => openPostgresStore({ connectionString: url });
    a = await startTestEdge({ openStore, serverId: 'hastate-a' });
    b = await startTestEdge({ openStore, serverId: 'hastate-b' });
  });
  after(async () => {
    await stopAllConnectors();
    await b?.stop();
    await a?.stop();
    await pg?.stop();
  });

  test('a session cookie made on edge A is accepted by edge B; logout on B ends it on A', async () => {
    const cookie = await a.browserAccess.pages.sessions.create(IDENTITY, 'app');
    const onB = await b.browserAccess.pages.sessions.check(cookie, 'app', TIMEOUTS);
    assert.ok('session' in onB, JSON.stringify(onB));
    assert.deepEqual(onB.session.identity, IDENTITY);
    // A has the session in its read cache before the logout.
    assert.ok('session' in (await a.browserAccess.pages.sessions.check(cookie, 'app', TIMEOUTS)));

    const asked = {
      method: 'GET',
      target: AUTH_PATHS.logout,
      host: 'app.example',
      headers: { cookie: `__Host-postern-session-app=${cookie}` },
      secure: true,
      virtualServer: 'app',
    };
    // Logout is the POST of the logout page's form, with the token the page carries.
    const form = (await b.browserAccess.pages.respond(asked))?.body ?? '';
    const csrf = /name="csrf" value="([^"]*)"/.exec(form)?.[1] ?? '';
    const body = Buffer.from(new URLSearchParams({ csrf }).toString());
    const loggedOut = await b.browserAccess.pages.respond({
      ...asked,
      method: 'POST',
      headers: { ...asked.headers, 'content-type': 'application/x-www-form-urlencoded' },
      readBody: () => Promise.resolve(body),
    });
    assert.equal(loggedOut?.status, 200);
    const started = Date.now();
    // The NOTIFY drops A's cache entry at once; without it the 2 s revalidation bound holds.
    await eventually(async () => {
      const onA = await a.browserAccess.pages.sessions.check(cookie, 'app', TIMEOUTS);
      return 'miss' in onA && onA.miss === 'unknown';
    }, 'edge A to refuse the logged-out session');
    assert.ok(Date.now() - started < 2000, `took ${Date.now() - started} ms`);
    const replay = await b.browserAccess.pages.sessions.check(cookie, 'app', TIMEOUTS);
    assert.deepEqual(replay, { miss: 'unknown' });
  });

  test('drain on A stops new sessions through that connector on B within 1 s, and survives a reconnect until undrain', async () => {
    const key = await b.createKey('hastate-g');
    const connector = await startTestConnector({ provisionKey: key.value });
    const id = connector.identity?.connectorId ?? '';
    await eventually(() => b.registry.pick('hastate-g')?.connectorId === id, 'B to use it');
    assert.equal(a.registry.get(id), undefined, 'the connector has no tunnel to A');

    const started = Date.now();
    const drained = await a.api<{ draining: boolean }>('POST', `/connectors/${id}/drain`);
    assert.equal(drained.status, 202, JSON.stringify(drained.body));
    assert.equal(drained.body.draining, true);
    await eventually(
      () => b.registry.get(id)?.draining === true && b.registry.pick('hastate-g') === undefined,
      'B to stop choosing the drained connector',
      1000,
    );
    assert.ok(Date.now() - started <= 1000, `took ${Date.now() - started} ms`);
    const shownOnB = await b.api<{ draining: boolean; status: string }>('GET', `/connectors/${id}`);
    assert.equal(shownOnB.body.draining, true);
    assert.equal(shownOnB.body.status, 'draining');

    // A reconnect (same identity) stays draining.
    const stateDir = connector.dir;
    await connector.stop({ drainTimeoutMs: 100 });
    await eventually(() => !b.registry.get(id), 'the tunnel to close');
    const again = await startTestConnector({ stateDir });
    assert.equal(again.identity?.connectorId, id);
    await eventually(() => b.registry.get(id), 'the connector to reconnect');
    assert.equal(b.registry.get(id)?.draining, true);
    assert.equal(b.registry.pick('hastate-g'), undefined);

    const undrained = await a.api<{ draining: boolean }>('POST', `/connectors/${id}/undrain`);
    assert.equal(undrained.status, 200, JSON.stringify(undrained.body));
    assert.equal(undrained.body.draining, false);
    await eventually(
      () => b.registry.pick('hastate-g')?.connectorId === id,
      'B to use the connector again',
      1000,
    );
  });
});
