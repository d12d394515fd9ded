// SRV discovery as a pool sees it, against the in-repo DNS server whose records change while
// the test runs: bad targets are left out on their own, repeated failures are reported in
// summary, and a pool whose discovery name changes does not keep the old name's nodes.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { FakeClock } from '../../core/index.js';
import { Pool } from '../pool.js';
import type { PoolConfigInput } from '../pool-config.js';
import { poolEvents, until } from '../test-pool-events.js';
import { DnsDiscovery, REPEATED_FAILURE_REPORT_MS } from './dns-discovery.js';
import { dnsDiscoverySpecFromConfig } from './dns-discovery-spec.js';
import { DnsTestServer } from './dns-test-server.js';

let dns: DnsTestServer;
before(async () => {
  dns = await DnsTestServer.start();
});
after(async () => {
  await dns.close();
});

type DnsConfig = { name: string; type?: 'A' | 'SRV'; port?: number };

function discoveredPool(dnsConfig: DnsConfig, context: { clock: FakeClock; previous?: Pool }) {
  const recorder = poolEvents();
  const config: PoolConfigInput = {
    name: 'web',
    discovery: { dns: { min_interval_ms: 1_000, resolver: dns.address, ...dnsConfig } },
  };
  const pool = Pool.fromConfig(config, {
    clock: context.clock,
    onEvent: recorder.onEvent,
    dnsQueryTimeoutMs: 200,
    previous: context.previous,
  });
  return { pool, recorder };
}

const addresses = (pool: Pool) => pool.activeNodes.map((n) => n.address).sort();

type Status = () => { readonly nextRefreshAt?: number | undefined } | undefined;

/** Waits until the resolution in flight (if any) has finished and the next one is scheduled. */
async function settled(clock: FakeClock, status: Status): Promise<void> {
  await until(() => (status()?.nextRefreshAt ?? 0) > clock.now(), 'the next resolution scheduled');
}

/** Advances the clock by `ms` and waits for the resolution it starts, which asks `name`. */
async function tick(clock: FakeClock, status: Status, query: [string, 'A' | 'SRV'], ms: number) {
  await settled(clock, status);
  const asked = dns.count(...query);
  clock.advance(ms);
  await settled(clock, status);
  assert.ok(dns.count(...query) > asked, `a ${query[1]} query for ${query[0]}`);
}

test('an SRV target without address is left out while the other targets keep updating', async () => {
  const name = '_web._tcp.srv.test';
  dns.set(name, {
    SRV: [
      { target: 'a1.srv.test', port: 21081, ttl: 1 },
      { target: 'a2.srv.test', port: 21082, ttl: 1 },
    ],
  });
  dns.set('a1.srv.test', { A: [{ address: '127.0.0.1', ttl: 1 }] });
  dns.set('a2.srv.test', { A: [{ address: '127.0.0.2', ttl: 1 }] });
  const clock = new FakeClock();
  const { pool, recorder } = discoveredPool({ name, type: 'SRV' }, { clock });
  pool.start();
  await recorder.next('discovery');
  assert.deepEqual(addresses(pool), ['127.0.0.1:21081', '127.0.0.2:21082']);

  // a2 leaves DNS, a3 arrives without any address, a1 moves: a1's move and a2's removal apply.
  dns.set(name, {
    SRV: [
      { target: 'a1.srv.test', port: 21081, ttl: 1 },
      { target: 'a3.srv.test', port: 21083, ttl: 1 },
    ],
  });
  dns.set('a1.srv.test', { A: [{ address: '127.0.0.11', ttl: 1 }] });
  dns.remove('a3.srv.test');
  clock.advance(1_000);
  const change = await recorder.next('discovery');
  assert.deepEqual(change.removed, ['127.0.0.1:21081', '127.0.0.2:21082']);
  assert.deepEqual(addresses(pool), ['127.0.0.11:21081']);
  const skipped = await recorder.next('discovery_skipped');
  assert.deepEqual(skipped.skipped, ['a3.srv.test: no A or AAAA record']);
  assert.equal(recorder.events.filter((e) => e.type === 'discovery_error').length, 0);

  // The same skip is told once, not on every resolution.
  const status = () => pool.status().discovery;
  await tick(clock, status, [name, 'SRV'], 1_000);
  await tick(clock, status, [name, 'SRV'], 1_000);
  assert.equal(pool.status().discovery?.nodes, 1);
  assert.equal(recorder.events.filter((e) => e.type === 'discovery_skipped').length, 1);
  pool.close();
});

test('a pool whose discovery name changes to a failing one starts empty, not with the old set', async () => {
  dns.set('web.test', { A: [{ address: '10.1.0.1', ttl: 1 }] });
  const clock = new FakeClock();
  const first = discoveredPool({ name: 'web.test', port: 80 }, { clock });
  first.pool.start();
  await first.recorder.next('discovery');
  assert.deepEqual(addresses(first.pool), ['10.1.0.1:80']);

  // Same name again (a reload): the last good set carries over.
  first.pool.close();
  const same = discoveredPool({ name: 'web.test', port: 80 }, { clock, previous: first.pool });
  dns.fail('web.test', 'A', 'refused');
  same.pool.start();
  await same.recorder.next('discovery_error');
  assert.deepEqual(addresses(same.pool), ['10.1.0.1:80']);

  // Another name that fails: web.test's node is not "last good" for web.other.
  same.pool.close();
  dns.fail('web.other', 'A', 'refused');
  const other = discoveredPool({ name: 'web.other', port: 80 }, { clock, previous: same.pool });
  other.pool.start();
  assert.deepEqual(addresses(other.pool), []);
  assert.deepEqual((await other.recorder.next('discovery')).removed, ['10.1.0.1:80']);
  await other.recorder.next('discovery_error');
  assert.throws(() => other.pool.pick(), { code: 'POSTERN_ERR_POOL_EMPTY' });

  dns.fail('web.other', 'A', undefined);
  dns.set('web.other', { A: [{ address: '10.2.0.1', ttl: 1 }] });
  clock.advance(1_000);
  assert.deepEqual((await other.recorder.next('discovery')).added, ['10.2.0.1:80']);
  other.pool.close();
  dns.fail('web.test', 'A', undefined);
});

test('the same failure repeated is reported once, then summarised every 5 minutes', async () => {
  const clock = new FakeClock();
  const errors: Error[] = [];
  const discovery = new DnsDiscovery(
    dnsDiscoverySpecFromConfig('p', {
      name: 'down.test',
      port: 80,
      min_interval_ms: 60_000,
      resolver: dns.address,
    }),
    { clock, queryTimeoutMs: 200, onNodes: () => undefined, onError: (e) => errors.push(e) },
  );
  dns.fail('down.test', 'A', 'servfail');
  discovery.start();
  await until(() => errors.length === 1, 'the first failure');
  const status = () => discovery.status();
  const query: [string, 'A'] = ['down.test', 'A'];
  for (let minute = 1; minute < 5; minute++) await tick(clock, status, query, 60_000);
  assert.equal(discovery.status().lastErrorAt, clock.now());
  assert.equal(errors.length, 1, 'repeats within 5 min are not reported');

  assert.equal(REPEATED_FAILURE_REPORT_MS, 300_000);
  await tick(clock, status, query, 60_000);
  assert.equal(errors.length, 2, 'the summary');
  assert.match(errors[1]!.message, /ESERVFAIL.*failed the same way 5 times in the last 5 min/);

  // A different failure is reported at once.
  dns.fail('down.test', 'A', 'refused');
  await tick(clock, status, query, 60_000);
  assert.equal(errors.length, 3, 'the new failure');
  assert.match(errors[2]!.message, /EREFUSED/);
  discovery.stop();
  dns.fail('down.test', 'A', undefined);
});
