import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { pino } from 'pino';
import { openMemoryStore, type AuditRecord, type Store } from '../store/index.js';
import { AuditLog, REDACTED, redactSecrets } from './audit.js';

/** Runs `body` with an audit log over a fresh memory store, recording what reaches onAudit. */
async function withAuditLog(
  body: (t: { log: AuditLog; store: Store; seen: AuditRecord[] }) => Promise<void>,
): Promise<void> {
  const store = await openMemoryStore();
  const seen: AuditRecord[] = [];
  const log = new AuditLog({
    store,
    logger: pino({ level: 'silent' }),
    onAudit: (r) => seen.push(r),
  });
  try {
    await body({ log, store, seen });
  } finally {
    await store.close();
  }
}

describe('audit log', () => {
  test('secrets are redacted at any depth; other values are kept', () => {
    const redacted = redactSecrets({
      name: 'web',
      key: '-----BEGIN PRIVATE KEY-----',
      tls: { private_key: 'pk', privateKey: 'pk2', cert: 'PEM' },
      receivers: [{ password: 'hunter2', host: 'h' }],
      secret: 'pt1.x.y',
      client_secret: 's',
      token: 'abc',
      enabled: true,
      nodes: [{ address: 'a:1' }],
    });
    assert.deepEqual(redacted, {
      name: 'web',
      key: REDACTED,
      tls: { private_key: REDACTED, privateKey: REDACTED, cert: 'PEM' },
      receivers: [{ password: REDACTED, host: 'h' }],
      secret: REDACTED,
      client_secret: REDACTED,
      token: REDACTED,
      enabled: true,
      nodes: [{ address: 'a:1' }],
    });
  });

  test('record stores a redacted record and passes the stored one to onAudit', () =>
    withAuditLog(async ({ log, store, seen }) => {
      const stored = await log.record({
        actor: 'token:ci',
        method: 'POST',
        path: '/api/v1/certificates',
        kind: 'certificate',
        name: 'c',
        after: { name: 'c', cert: 'PEM', key: 'PRIVATE' },
        outcome: 'success',
        status: 201,
      });
      assert.deepEqual(stored?.after, { name: 'c', cert: 'PEM', key: REDACTED });
      assert.deepEqual(seen, [stored]);
      assert.deepEqual(await store.audit.list(), [stored]);
      assert.doesNotMatch(JSON.stringify(await store.snapshot.read()), /PRIVATE/);
    }));

  test('the source address is stored, listed and passed to onAudit with the stored record', () =>
    withAuditLog(async ({ log, store, seen }) => {
      const stored = await log.record({
        actor: 'token:ci',
        method: 'DELETE',
        path: '/api/v1/pools/web',
        kind: 'pool',
        name: 'web',
        outcome: 'success',
        status: 204,
        source: '10.0.0.5',
      });
      assert.equal(stored?.source, '10.0.0.5');
      assert.deepEqual(seen, [stored]);
      assert.deepEqual(await store.audit.list(), [stored]);
      assert.equal((await store.audit.list())[0]?.source, '10.0.0.5');
    }));
});
