// End to end with the built CLI in network namespaces the test creates and removes: the private
// app and the connectors live in `site`, the edge and its clients in `edge`, and the app's address
// exists only inside `site`. Needs root (CI runs it as root); fails, never skips, without it.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { pollUntil } from './support/poll.js';
import { SiteLab, type ConnectorHandle, type SessionRecord } from './support/site-lab.js';
import type { EchoResult, ProbeResult } from './support/tcp-client.js';

const MiB = 1024 * 1024;
const GROUP = 'site';
const REFUSAL_CODES = ['POSTERN_ERR_CONNECTOR_REVOKED', 'POSTERN_ERR_TUNNEL_CERT_REJECTED'];

interface KeyView {
  id: string;
  value: string;
  max_usage: number;
  usage_count: number;
}
interface ConnectorView {
  id: string;
  status: string;
  remote_address?: string;
  active_sessions: number;
}

describe(
  'a private site reached only through connectors (network namespaces)',
  { timeout: 120_000 },
  () => {
    let lab: SiteLab | undefined;
    let key: KeyView | undefined;
    let first: ConnectorHandle | undefined;
    let second: ConnectorHandle | undefined;
    let failedStep: string | undefined;

    /** Steps build on each other: after a failure the rest fail at once instead of waiting. */
    const step = (name: string, body: (lab: SiteLab) => Promise<void>): void => {
      it(name, async (t) => {
        if (failedStep !== undefined) throw new Error(`not run: the step "${failedStep}" failed`);
        try {
          await body(need(lab, 'lab'));
        } catch (err) {
          failedStep = name;
          if (lab) t.diagnostic(`recent output of the processes:\n${lab.tails()}`);
          throw err;
        }
      });
    };

    const echo = (l: SiteLab, connections: number, bytes: number): Promise<EchoResult[]> =>
      l.client<EchoResult[]>(
        l.net.edgeNs,
        ['echo', l.virtualServer, String(connections), String(bytes), '15000'],
        20_000,
      );

    const keyUsage = async (l: SiteLab): Promise<number> => {
      const res = await l.api<KeyView>('GET', `/provisioning-keys/${need(key, 'key').id}`);
      assert.equal(res.status, 200);
      return res.body.usage_count;
    };

    const connectors = async (l: SiteLab): Promise<Map<string, ConnectorView>> => {
      const res = await l.api<{ items: ConnectorView[] }>('GET', `/connectors?group=${GROUP}`);
      assert.equal(res.status, 200);
      return new Map(res.body.items.map((c) => [c.id, c]));
    };

    before(async () => {
      lab = await SiteLab.create();
      await lab.startApp();
      await lab.startEdge();
    });

    after(async () => {
      await lab?.close();
    });

    step(
      'the app answers inside the site namespace but the edge namespace cannot reach it',
      async (l) => {
        const inside = await l.client<ProbeResult>(
          l.net.siteNs,
          ['probe', l.appAddress, '3000'],
          10_000,
        );
        assert.equal(
          inside.connected,
          true,
          `the app should answer inside the site: ${JSON.stringify(inside)}`,
        );
        const outside = await l.client<ProbeResult>(
          l.net.edgeNs,
          ['probe', l.appAddress, '3000'],
          10_000,
        );
        assert.equal(
          outside.connected,
          false,
          'the app must not be reachable from the edge namespace',
        );
        assert.ok(
          ['ENETUNREACH', 'EHOSTUNREACH', 'timeout'].includes(outside.code ?? ''),
          `expected unreachable, got ${JSON.stringify(outside)}`,
        );
      },
    );

    step(
      'the CLI and admin API create a group, a key, a pool via the group and a TCP virtual server',
      async (l) => {
        assert.match(await l.cli(['groups', 'create', GROUP]), /created group site/);
        key = JSON.parse(
          await l.cli(['keys', 'create', '--group', GROUP, '--max-usage', '5', '--json']),
        ) as KeyView;
        assert.equal(key.max_usage, 5);
        assert.equal(key.usage_count, 0);
        assert.ok(key.value.length > 20, 'the key value is printed once, at creation');
        const pool = await l.api('POST', '/pools', {
          name: 'site-app',
          via: GROUP,
          nodes: [{ address: l.appAddress }],
        });
        assert.equal(pool.status, 201, JSON.stringify(pool.body));
        const vs = await l.api('POST', '/virtual-servers', {
          name: 'site-app',
          protocol: 'tcp',
          listen: l.virtualServer,
          pool: 'site-app',
        });
        assert.equal(vs.status, 201, JSON.stringify(vs.body));
      },
    );

    step(
      'a connector started with the key carries 1 MiB to the app and back intact; the key is used once',
      async (l) => {
        first = await l.startConnector('connector-1', {
          stateDir: 'connector-1',
          provisionKey: need(key, 'key').value,
        });
        const id = first.connectorId;
        await l.edge.waitForLog('connector tunnel up', {
          timeoutMs: 5_000,
          where: (e) => e.connector === id,
        });
        const [result] = await echo(l, 1, MiB);
        assert.ok(result?.ok, `1 MiB should echo intact: ${JSON.stringify(result)}`);
        assert.equal(result.received, MiB);
        assert.equal(result.receivedSha256, result.sentSha256);
        const [record] = await l.sessionRecords([result.localPort]);
        assert.equal(record?.connectorId, id, 'the session went through the connector');
        assert.equal(await keyUsage(l), 1);
      },
    );

    step(
      'after kill -9 of the connector new connections close without data and the edge logs POSTERN_ERR_NO_CONNECTOR',
      async (l) => {
        const killed = need(first, 'first connector');
        assert.ok(
          await killed.process.stop('SIGKILL', 5_000),
          'the connector should die on SIGKILL',
        );
        await l.edge.waitForLog('connector tunnel down', {
          timeoutMs: 5_000,
          where: (e) => e.connector === killed.connectorId,
        });
        const results = await echo(l, 3, 1024);
        for (const r of results) {
          assert.equal(
            r.ok,
            false,
            `a connection without a connector must fail: ${JSON.stringify(r)}`,
          );
          assert.equal(r.received, 0, 'no data may come back');
          assert.ok(r.error, 'the connection ends (closed or reset), it does not hang');
          assert.notEqual(r.error, 'timeout');
        }
        const records = await l.sessionRecords(results.map((r) => r.localPort));
        assert.deepEqual(
          records.map((r) => r.closeReason),
          results.map(() => 'POSTERN_ERR_NO_CONNECTOR'),
        );
        const view = (await connectors(l)).get(killed.connectorId);
        assert.equal(view?.status, 'disconnected');
      },
    );

    step(
      'the connector restarted from its state dir, without the key, works again and the key usage stays 1',
      async (l) => {
        const restarted = await l.startConnector('connector-1-restarted', {
          stateDir: 'connector-1',
        });
        assert.equal(
          restarted.connectorId,
          need(first, 'first connector').connectorId,
          'same identity',
        );
        first = restarted;
        const [result] = await echo(l, 1, 256 * 1024);
        assert.ok(result?.ok, `echo after restart: ${JSON.stringify(result)}`);
        assert.equal(await keyUsage(l), 1, 'a restart must not use the key again');
      },
    );

    step(
      'a second connector enrolled with the same key takes a share of 20 concurrent connections',
      async (l) => {
        second = await l.startConnector('connector-2', {
          stateDir: 'connector-2',
          provisionKey: need(key, 'key').value,
        });
        const ids = [need(first, 'first connector').connectorId, second.connectorId];
        assert.notEqual(ids[0], ids[1]);
        assert.equal(await keyUsage(l), 2);
        const held = await l.hold(20);
        let perConnector: number[];
        try {
          assert.equal(
            held.ready.filter((r) => r.ok).length,
            20,
            `all 20 should connect: ${JSON.stringify(held.ready.filter((r) => !r.ok))}`,
          );
          // Every held connection has echoed, so each is an open session on one tunnel right now.
          const live = await connectors(l);
          perConnector = ids.map((id) => live.get(id)?.active_sessions ?? -1);
          for (const id of ids) assert.equal(live.get(id)?.status, 'connected');
        } finally {
          assert.ok(await held.release(), 'the holding client should exit');
        }
        assert.equal(
          perConnector[0]! + perConnector[1]!,
          20,
          `active sessions per connector: ${perConnector.join(', ')}`,
        );
        assert.ok(
          Math.min(...perConnector) >= 5,
          `connections should spread over both connectors: ${perConnector.join(', ')}`,
        );
        const records = await l.sessionRecords(held.ready.map((r) => r.localPort));
        const counted = ids.map(
          (id) => records.filter((r: SessionRecord) => r.connectorId === id).length,
        );
        assert.deepEqual(counted, perConnector, 'the edge session log agrees with the API counts');
      },
    );

    step(
      'deleting a connector closes its tunnel at once, its retries are refused, and the other keeps serving',
      async (l) => {
        const doomed = need(second, 'second connector');
        const kept = need(first, 'first connector');
        assert.match(await l.cli(['connectors', 'delete', doomed.connectorId]), /deleted/);
        await l.edge.waitForLog('connector tunnel down', {
          timeoutMs: 3_000,
          where: (e) => e.connector === doomed.connectorId,
        });
        let last: ConnectorView | undefined;
        await pollUntil(
          async () => {
            last = (await connectors(l)).get(doomed.connectorId);
            return last?.status === 'revoked' && last.remote_address === undefined
              ? last
              : undefined;
          },
          {
            timeoutMs: 3_000,
            what: 'the deleted connector shown revoked with no tunnel',
            last: () => JSON.stringify(last),
          },
        );
        // The edge tells the connector why; it stops rather than retry a dead identity.
        await doomed.process.waitForLog(
          'connector revoked; stopping (enroll again with a provisioning key to come back)',
          {
            timeoutMs: 5_000,
            where: (e) => e.code === 'POSTERN_ERR_CONNECTOR_REVOKED',
          },
        );
        assert.equal(
          (await withDeadline(doomed.process.exited, 10_000, 'revoked connector exit')).code,
          1,
        );
        // Started again from its state, its certificate is refused at the tunnel.
        const retry = l.spawnConnector('connector-2-after-delete', { stateDir: 'connector-2' });
        await retry.waitForLog(
          'connector revoked; stopping (enroll again with a provisioning key to come back)',
          {
            timeoutMs: 10_000,
            where: (e) => REFUSAL_CODES.includes(String(e.code)),
          },
        );
        await l.edge.waitForLog('tunnel refused', {
          timeoutMs: 5_000,
          where: (e) => REFUSAL_CODES.includes(String(e.reason)),
        });
        assert.equal((await withDeadline(retry.exited, 10_000, 'refused connector exit')).code, 1);
        const results = await echo(l, 6, 64 * 1024);
        assert.deepEqual(
          results.map((r) => r.ok),
          results.map(() => true),
          JSON.stringify(results.filter((r) => !r.ok)),
        );
        const records = await l.sessionRecords(results.map((r) => r.localPort));
        assert.deepEqual(
          records.map((r) => r.connectorId),
          records.map(() => kept.connectorId),
          'every session goes through the remaining connector',
        );
        assert.equal((await connectors(l)).get(kept.connectorId)?.status, 'connected');
      },
    );
  },
);

function need<T>(value: T | undefined, what: string): T {
  if (value === undefined) throw new Error(`${what} is not set up`);
  return value;
}

function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return Promise.race([
    promise,
    new Promise<T>((_, reject) =>
      setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms).unref(),
    ),
  ]);
}
