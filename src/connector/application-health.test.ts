import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Clock, TimerHandle } from '../core/index.js';
import type { ApplicationHealthWork } from '../protocol/index.js';
import {
  ApplicationHealthMonitor,
  ON_ACCESS_WINDOW_MS,
  aggregate,
  type ApplicationHealthReport,
} from './application-health.js';
import type { DestinationProbe } from './application-probe.js';
import { matchApplication } from './application-target-match.js';

/** A clock whose timers fire only when the test advances it. */
class ManualClock implements Clock {
  #now = 1_700_000_000_000;
  #timers: { at: number; fn: () => void }[] = [];
  now(): number {
    return this.#now;
  }
  monotonic(): number {
    return this.#now;
  }
  setTimeout(fn: () => void, ms: number): TimerHandle {
    const t = { at: this.#now + ms, fn };
    this.#timers.push(t);
    return t as TimerHandle;
  }
  clearTimeout(handle: TimerHandle): void {
    this.#timers = this.#timers.filter((t) => t !== handle);
  }
  /** Moves time in steps, firing due timers and letting the checks they start finish. */
  async advance(ms: number, step = 1000): Promise<void> {
    const end = this.#now + ms;
    while (this.#now < end) {
      this.#now = Math.min(end, this.#now + step);
      await this.fire();
    }
  }
  async fire(): Promise<void> {
    for (let i = 0; i < 100; i++) {
      const due = this.#timers.filter((t) => t.at <= this.#now);
      if (due.length === 0) return;
      this.#timers = this.#timers.filter((t) => t.at > this.#now);
      for (const t of due) t.fn();
      await settle();
    }
  }
}

async function settle(): Promise<void> {
  for (let i = 0; i < 10; i++) await new Promise((r) => setImmediate(r));
}

function work(over: Partial<ApplicationHealthWork> & { name: string }): ApplicationHealthWork {
  return {
    mode: 'on_access',
    domains: [],
    cidrs: [],
    ports: [[5432, 5432]],
    intervalMs: 10_000,
    timeoutMs: 1000,
    ...over,
  };
}

/** A probe answering from a table of `host:port` → up; records what it was asked. */
function tableProbe(up: Map<string, boolean>): DestinationProbe & { calls: string[] } {
  const calls: string[] = [];
  const probe = (host: string, port: number) => {
    calls.push(`${host}:${port}`);
    const ok = up.get(`${host}:${port}`) ?? false;
    return Promise.resolve(ok ? { up: ['10.0.0.1'], down: [] } : { up: [], down: ['10.0.0.1'] });
  };
  return Object.assign(probe, { calls });
}

function setup(probe: DestinationProbe) {
  const clock = new ManualClock();
  const reports: ApplicationHealthReport[] = [];
  const monitor = new ApplicationHealthMonitor({
    report: (r) => reports.push(r),
    probe,
    clock,
    heartbeatMs: 60_000,
  });
  const last = (app: string) => reports.filter((r) => r.application === app).at(-1);
  return { clock, reports, monitor, last };
}

describe('application health on a connector', () => {
  it('on_access checks a destination once reached, and goes back to unknown 30 minutes after the last access', async () => {
    const probe = tableProbe(new Map([['db.corp.internal:5432', true]]));
    const { clock, monitor, last } = setup(probe);
    monitor.apply([work({ name: 'db', domains: ['*.corp.internal'] })]);
    await clock.fire();
    assert.equal(last('db')?.state, 'unknown', 'nothing is checked before an access');
    assert.equal(probe.calls.length, 0);

    monitor.accessed({ host: 'db.corp.internal', port: 5432 });
    await clock.fire();
    assert.equal(last('db')?.state, 'up');
    assert.deepEqual(
      last('db')?.destinations.map((d) => [d.destination, d.state]),
      [['db.corp.internal', 'up']],
    );

    await clock.advance(ON_ACCESS_WINDOW_MS - 60_000);
    assert.equal(last('db')?.state, 'up', 'still checked inside the window');
    const callsInWindow = probe.calls.length;
    assert.ok(callsInWindow > 100, `checked every interval (${callsInWindow} checks)`);

    await clock.advance(2 * 60_000);
    assert.equal(last('db')?.state, 'unknown');
    assert.deepEqual(last('db')?.destinations, []);
    const callsAfter = probe.calls.length;
    await clock.advance(10 * 60_000);
    assert.equal(probe.calls.length, callsAfter, 'no checks once the window has passed');
  });

  it('on_access restarts the window with each access', async () => {
    const probe = tableProbe(new Map([['10.1.0.7:5432', true]]));
    const { clock, monitor, last } = setup(probe);
    monitor.apply([work({ name: 'net', cidrs: ['10.1.0.0/16'] })]);
    monitor.accessed({ host: '10.1.0.7', port: 5432 });
    await clock.fire();
    await clock.advance(20 * 60_000);
    monitor.accessed({ host: '10.1.0.7', port: 5432 });
    await clock.advance(20 * 60_000);
    assert.equal(last('net')?.state, 'up', '40 minutes after the first access, 20 after the last');
    await clock.advance(11 * 60_000);
    assert.equal(last('net')?.state, 'unknown');
  });

  it('continuous checks exact names on every port without an access, and keeps checking', async () => {
    const up = new Map([
      ['api.corp.internal:443', true],
      ['api.corp.internal:8443', true],
    ]);
    const probe = tableProbe(up);
    const { clock, monitor, last } = setup(probe);
    monitor.apply([
      work({
        name: 'api',
        mode: 'continuous',
        domains: ['api.corp.internal', '*.svc.corp.internal'],
        cidrs: ['10.9.0.0/24'],
        ports: [
          [443, 443],
          [8443, 8443],
        ],
      }),
    ]);
    await clock.fire();
    assert.equal(last('api')?.state, 'up');
    assert.deepEqual(
      new Set(probe.calls),
      new Set(['api.corp.internal:443', 'api.corp.internal:8443']),
    );

    await clock.advance(2 * 60 * 60_000, 10_000);
    assert.equal(last('api')?.state, 'up', 'still reported two hours later');
    assert.ok(probe.calls.length > 1000, `checked all the time (${probe.calls.length} checks)`);

    // A CIDR address counts once it was reached; then one port of the name goes down.
    up.set('10.9.0.3:443', true);
    monitor.accessed({ host: '10.9.0.3', port: 443 });
    await clock.fire();
    assert.deepEqual(
      last('api')?.destinations.map((d) => d.destination),
      ['10.9.0.3', 'api.corp.internal'],
    );
    up.set('api.corp.internal:8443', false);
    await clock.advance(10_000);
    const report = last('api');
    assert.equal(report?.state, 'unhealthy');
    const name = report?.destinations.find((d) => d.destination === 'api.corp.internal');
    assert.equal(name?.state, 'unhealthy', 'one of two ports is down');
    assert.deepEqual(
      name?.ports.map((p) => [p.port, p.state]),
      [
        [443, 'up'],
        [8443, 'down'],
      ],
    );
  });

  it('is unhealthy when some destinations fail and down when all do', async () => {
    const up = new Map([['a.corp.internal:5432', true]]);
    const { clock, monitor, last } = setup(tableProbe(up));
    monitor.apply([work({ name: 'dbs', domains: ['*.corp.internal'] })]);
    monitor.accessed({ host: 'a.corp.internal', port: 5432 });
    monitor.accessed({ host: 'b.corp.internal', port: 5432 });
    await clock.fire();
    assert.equal(last('dbs')?.state, 'unhealthy');
    up.set('a.corp.internal:5432', false);
    await clock.advance(10_000);
    assert.equal(last('dbs')?.state, 'down');
    up.set('a.corp.internal:5432', true);
    up.set('b.corp.internal:5432', true);
    await clock.advance(10_000);
    assert.equal(last('dbs')?.state, 'up');
  });

  it('a destination some of whose resolved addresses fail is unhealthy', async () => {
    const probe: DestinationProbe = () =>
      Promise.resolve({ up: ['10.0.0.1'], down: ['10.0.0.2'], detail: '10.0.0.2: refused' });
    const { clock, monitor, last } = setup(probe);
    monitor.apply([work({ name: 'lb', domains: ['*.corp.internal'] })]);
    monitor.accessed({ host: 'lb.corp.internal', port: 5432 });
    await clock.fire();
    const port = last('lb')?.destinations[0]?.ports[0];
    assert.equal(port?.state, 'unhealthy');
    assert.deepEqual([port?.up, port?.down], [['10.0.0.1'], ['10.0.0.2']]);
  });

  it('sends a report only when something changed, or as a heartbeat', async () => {
    const { clock, monitor, reports } = setup(
      tableProbe(new Map([['x.corp.internal:5432', true]])),
    );
    monitor.apply([work({ name: 'x', domains: ['*.corp.internal'] })]);
    monitor.accessed({ host: 'x.corp.internal', port: 5432 });
    await clock.fire();
    const before = reports.length;
    await clock.advance(50_000);
    assert.equal(reports.length, before, 'five unchanged rounds inside the heartbeat send nothing');
    await clock.advance(20_000);
    assert.equal(reports.length, before + 1, 'the heartbeat sends the unchanged state');
  });

  it('ignores accesses of applications it was not asked to check (health_reporting none)', async () => {
    const probe = tableProbe(new Map());
    const { clock, monitor, reports } = setup(probe);
    monitor.apply([]);
    monitor.accessed({ host: 'db.corp.internal', port: 5432 });
    await clock.advance(60_000);
    assert.equal(probe.calls.length, 0);
    assert.equal(reports.length, 0);
  });

  it('drops an application no longer sent, and checks nothing after stop', async () => {
    const probe = tableProbe(new Map([['db.corp.internal:5432', true]]));
    const { clock, monitor } = setup(probe);
    monitor.apply([work({ name: 'db', mode: 'continuous', domains: ['db.corp.internal'] })]);
    await clock.fire();
    const calls = probe.calls.length;
    assert.ok(calls > 0);
    monitor.apply([]);
    await clock.advance(60_000);
    assert.equal(probe.calls.length, calls);
    assert.equal(monitor.snapshot('db'), undefined);
    monitor.stop();
  });
});

describe('application matching and aggregation', () => {
  it('picks the most specific application: exact name, longer wildcard, longer prefix', () => {
    const apps = [
      work({ name: 'wide', domains: ['*.internal'], cidrs: ['10.0.0.0/8'] }),
      work({ name: 'corp', domains: ['*.corp.internal'], cidrs: ['10.1.0.0/16'] }),
      work({ name: 'db', domains: ['db.corp.internal'] }),
    ];
    assert.equal(matchApplication(apps, 'db.corp.internal', 5432)?.name, 'db');
    assert.equal(matchApplication(apps, 'DB.Corp.Internal.', 5432)?.name, 'db');
    assert.equal(matchApplication(apps, 'web.corp.internal', 5432)?.name, 'corp');
    assert.equal(matchApplication(apps, 'web.other.internal', 5432)?.name, 'wide');
    assert.equal(matchApplication(apps, '10.1.2.3', 5432)?.name, 'corp');
    assert.equal(matchApplication(apps, '10.2.2.3', 5432)?.name, 'wide');
    assert.equal(matchApplication(apps, '10.1.2.3', 22), undefined, 'port not listed');
    assert.equal(matchApplication(apps, 'corp.internal.evil', 5432), undefined);
  });

  it('aggregates: all up is up, all down is down, a mix is unhealthy, nothing known is unknown', () => {
    assert.equal(aggregate(['up', 'up']), 'up');
    assert.equal(aggregate(['down', 'down', 'unknown']), 'down');
    assert.equal(aggregate(['up', 'down']), 'unhealthy');
    assert.equal(aggregate(['up', 'unhealthy']), 'unhealthy');
    assert.equal(aggregate([]), 'unknown');
    assert.equal(aggregate(['unknown']), 'unknown');
  });
});
