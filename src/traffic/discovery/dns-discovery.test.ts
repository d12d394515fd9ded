import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { DnsDiscovery } from './dns-discovery.js';
import { dnsDiscoverySpecFromConfig, type DnsDiscoveryConfigInput } from './dns-discovery-spec.js';
import { DnsTestServer } from './dns-test-server.js';

let dns: DnsTestServer;
before(async () => {
  dns = await DnsTestServer.start();
});
after(async () => {
  await dns.close();
});

/** Runs discovery on a fake clock and lets the test await each answer or error in turn. */
function watch(config: Omit<DnsDiscoveryConfigInput, 'resolver'>) {
  const clock = new FakeClock();
  const events: (readonly string[] | Error)[] = [];
  let wake: (() => void) | undefined;
  const push = (event: readonly string[] | Error) => {
    events.push(event);
    wake?.();
  };
  const discovery = new DnsDiscovery(
    dnsDiscoverySpecFromConfig('p', { ...config, resolver: dns.address }),
    {
      clock,
      queryTimeoutMs: 200,
      onNodes: push,
      onError: push,
    },
  );
  let taken = 0;
  return {
    clock,
    discovery,
    /** The next answer (node list) or error, waiting up to 5 s for it. */
    async next(): Promise<readonly string[] | Error> {
      const deadline = Date.now() + 5_000;
      while (events.length <= taken) {
        assert.ok(Date.now() < deadline, 'discovery reported nothing');
        await new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, 50);
        });
      }
      return events[taken++]!;
    },
    get reported() {
      return events.length;
    },
  };
}

test('discovery re-resolves after the TTL when it is longer than min_interval', async () => {
  dns.set('ttl.test', { A: [{ address: '10.0.0.1', ttl: 30 }] });
  const w = watch({ name: 'ttl.test', port: 80, min_interval_ms: 10_000 });
  w.discovery.start();
  assert.deepEqual(await w.next(), ['10.0.0.1:80']);
  assert.equal(w.discovery.status().nextRefreshAt, w.clock.now() + 30_000);
  dns.set('ttl.test', { A: [{ address: '10.0.0.2', ttl: 30 }] });
  w.clock.advance(29_999);
  // Absence of a query can only be seen by giving one time to arrive.
  await new Promise((f) => setTimeout(f, 50));
  assert.equal(dns.count('ttl.test', 'A'), 1);
  w.clock.advance(1);
  assert.deepEqual(await w.next(), ['10.0.0.2:80']);
  assert.equal(dns.count('ttl.test', 'A'), 2);
  w.discovery.stop();
});

test('discovery waits min_interval when the TTL is shorter, and at least 1 s for TTL 0', async () => {
  dns.set('short.test', { A: [{ address: '10.0.0.1', ttl: 2 }] });
  const w = watch({ name: 'short.test', port: 80, min_interval_ms: 10_000 });
  w.discovery.start();
  await w.next();
  assert.equal(w.discovery.status().nextRefreshAt, w.clock.now() + 10_000);
  w.discovery.stop();
  dns.set('zero.test', { A: [{ address: '10.0.0.1', ttl: 0 }] });
  const z = watch({ name: 'zero.test', port: 80, min_interval_ms: 0 });
  z.discovery.start();
  await z.next();
  assert.equal(z.discovery.status().nextRefreshAt, z.clock.now() + 1_000);
  z.discovery.stop();
});

test('a failing resolver keeps the last good set and is retried after min_interval', async () => {
  dns.set('flaky.test', { A: [{ address: '10.0.0.7', ttl: 1 }] });
  const w = watch({ name: 'flaky.test', port: 80, min_interval_ms: 5_000 });
  w.discovery.start();
  assert.deepEqual(await w.next(), ['10.0.0.7:80']);
  dns.mode = 'servfail';
  w.clock.advance(5_000);
  const failure = await w.next();
  assert.ok(failure instanceof Error);
  assert.equal((failure as Error & { code?: string }).code, 'POSTERN_ERR_DISCOVERY_FAILED');
  assert.match(w.discovery.status().lastError ?? '', /ESERVFAIL/);
  assert.equal(w.discovery.status().nodes, 1);
  dns.mode = 'silent';
  w.clock.advance(5_000);
  assert.ok((await w.next()) instanceof Error);
  dns.mode = 'answer';
  dns.set('flaky.test', { A: [{ address: '10.0.0.8', ttl: 1 }] });
  w.clock.advance(5_000);
  assert.deepEqual(await w.next(), ['10.0.0.8:80']);
  assert.equal(w.discovery.status().lastError, undefined);
  w.discovery.stop();
});

test('stop ends the schedule: no more queries and no more reports', async () => {
  dns.set('stop.test', { A: [{ address: '10.0.0.1', ttl: 1 }] });
  const w = watch({ name: 'stop.test', port: 80, min_interval_ms: 1_000 });
  w.discovery.start();
  await w.next();
  w.discovery.stop();
  assert.equal(w.clock.pending, 0);
  assert.equal(w.discovery.status().nextRefreshAt, undefined);
  w.clock.advance(60_000);
  await new Promise((f) => setTimeout(f, 50));
  assert.equal(dns.count('stop.test', 'A'), 1);
  assert.equal(w.reported, 1);
});
