import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { test } from 'node:test';
import { pino } from 'pino';
import { Backoff } from '../core/index.js';
import { EdgeSupervisor } from './edge-supervisor.js';
import type { EdgeTunnel } from './edge-tunnel.js';

interface Peer {
  serverId: string;
  address: string;
}

/** A stand-in for EdgeTunnel: what the supervisor reads and listens to, nothing more. */
class FakeTunnel extends EventEmitter {
  readonly session = Object.assign(new EventEmitter(), {
    destroyed: false,
    destroy: () => {
      this.session.destroyed = true;
      this.emit('close', undefined);
    },
  });
  closed = false;
  constructor(readonly welcome: { serverId: string; serverCount: number; peers: Peer[] }) {
    super();
  }
  close(): Promise<void> {
    this.closed = true;
    this.emit('close', undefined);
    return Promise.resolve();
  }
}

const peers = (...ids: string[]): Peer[] => ids.map((id) => ({ serverId: id, address: 'lb:1' }));
const fast = () => new Backoff({ initialMs: 5, factor: 1, maxMs: 5, jitter: 0 });
const logger = pino({ level: 'silent' });

/** Edges behind a round-robin "load balancer"; each dial lands on the next live one. */
function loadBalancer(ids: string[]) {
  let next = 0;
  const live = [...ids];
  const opened: FakeTunnel[] = [];
  return {
    live,
    opened,
    dials: () => opened.length,
    open: (): Promise<EdgeTunnel> => {
      if (live.length === 0) return Promise.reject(new Error('connection refused'));
      const id = live[next++ % live.length]!;
      const tunnel = new FakeTunnel({
        serverId: id,
        serverCount: live.length,
        peers: peers(...live),
      });
      opened.push(tunnel);
      return Promise.resolve(tunnel as unknown as EdgeTunnel);
    },
  };
}

async function until(check: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

test('behind one address it dials until every edge id is held, closing duplicates', async () => {
  // The load balancer lands on e1 twice before the others: each second e1 is a duplicate.
  const order = ['e1', 'e1', 'e2', 'e1', 'e3'];
  const opened: FakeTunnel[] = [];
  const heldAtDial: string[][] = [];
  const sup = new EdgeSupervisor({
    addresses: ['lb:1'],
    open: (_address, held) => {
      heldAtDial.push([...held]);
      const tunnel = new FakeTunnel({
        serverId: order[opened.length % order.length]!,
        serverCount: 3,
        peers: peers('e1', 'e2', 'e3'),
      });
      opened.push(tunnel);
      return Promise.resolve(tunnel as unknown as EdgeTunnel);
    },
    newBackoff: fast,
    duplicateDelayMs: 5,
    logger,
  });
  sup.start();
  await until(() => sup.tunnels.size === 3, 'three tunnels');
  assert.deepEqual([...sup.tunnels.keys()].sort(), ['e1', 'e2', 'e3']);
  assert.equal(opened.length, 5);
  assert.deepEqual(
    opened.filter((t) => t.session.destroyed).map((t) => t.welcome.serverId),
    ['e1', 'e1'],
  );
  // Each hello names the edges already held, so an edge can tell it is a duplicate.
  assert.deepEqual(heldAtDial.slice(0, 3), [[], ['e1'], ['e1']]);
  await new Promise((r) => setTimeout(r, 30));
  assert.equal(opened.length, 5, 'no dialing once every edge is held');
  await sup.stop();
});

test('an edges message with a new edge makes it dial again; a gone edge is dropped', async () => {
  const lb = loadBalancer(['e1', 'e2']);
  const sup = new EdgeSupervisor({
    addresses: ['lb:1'],
    open: lb.open,
    newBackoff: fast,
    duplicateDelayMs: 5,
    joinGraceMs: 0,
    logger,
  });
  sup.start();
  await until(() => sup.tunnels.size === 2, 'two tunnels');
  lb.live.push('e3');
  const first = sup.tunnels.get('e1') as unknown as FakeTunnel;
  first.emit('edges', { serverId: 'e1', serverCount: 3, peers: peers('e1', 'e2', 'e3') });
  await until(() => sup.tunnels.has('e3'), 'the new edge e3');
  assert.equal(sup.known.serverCount, 3);

  const e2 = sup.tunnels.get('e2') as unknown as FakeTunnel;
  lb.live.splice(lb.live.indexOf('e2'), 1);
  first.emit('edges', { serverId: 'e1', serverCount: 2, peers: peers('e1', 'e3') });
  await until(() => !sup.tunnels.has('e2'), 'e2 dropped');
  assert.equal(e2.closed, true, 'the tunnel to the gone edge is closed');
  assert.deepEqual([...sup.tunnels.keys()].sort(), ['e1', 'e3']);
  await sup.stop();
});

test('go-away from an edge drops its tunnel at once and a replacement is looked for', async () => {
  const lb = loadBalancer(['e1', 'e2']);
  const disconnected: string[] = [];
  const sup = new EdgeSupervisor({
    addresses: ['lb:1'],
    open: lb.open,
    newBackoff: fast,
    duplicateDelayMs: 5,
    logger,
  });
  sup.on('disconnected', (t) => disconnected.push(t.welcome.serverId));
  sup.start();
  await until(() => sup.tunnels.size === 2, 'two tunnels');
  const leaving = sup.tunnels.get('e2') as unknown as FakeTunnel;
  const dialsBefore = lb.dials();
  leaving.session.emit('goaway', 0);
  assert.equal(sup.tunnels.has('e2'), false);
  assert.deepEqual(disconnected, ['e2']);
  assert.equal(leaving.closed, false, 'streams in flight may finish: the tunnel stays open');
  assert.ok(sup.openTunnels.includes(leaving as unknown as EdgeTunnel));
  await until(() => sup.tunnels.has('e2'), 'e2 again (a restarted edge)');
  assert.ok(lb.dials() > dialsBefore);
  await sup.stop();
});

test('with an explicit list it keeps one tunnel per address and redials a closed one', async () => {
  let n = 0;
  const opened = new Map<string, FakeTunnel[]>();
  const sup = new EdgeSupervisor({
    addresses: ['a:1', 'b:2'],
    open: (address) => {
      const tunnel = new FakeTunnel({
        serverId: `edge-${address}`,
        serverCount: 2,
        peers: peers('edge-a:1', 'edge-b:2'),
      });
      n += 1;
      opened.set(address, [...(opened.get(address) ?? []), tunnel]);
      return Promise.resolve(tunnel as unknown as EdgeTunnel);
    },
    newBackoff: fast,
    duplicateDelayMs: 5,
    logger,
  });
  sup.start();
  await until(() => sup.tunnels.size === 2, 'both tunnels');
  assert.equal(n, 2);
  await opened.get('a:1')![0]!.close();
  await until(() => (opened.get('a:1')?.length ?? 0) === 2 && sup.tunnels.size === 2, 'a again');
  assert.equal(opened.get('b:2')!.length, 1, 'the other address was left alone');
  await sup.stop();
});

test('a failing address is retried with backoff and reported', async () => {
  let attempts = 0;
  const errors: string[] = [];
  const sup = new EdgeSupervisor({
    addresses: ['lb:1'],
    open: () => {
      attempts += 1;
      return Promise.reject(new Error(`refused ${attempts}`));
    },
    newBackoff: () => new Backoff({ initialMs: 20, factor: 1, maxMs: 20, jitter: 0 }),
    logger,
  });
  sup.on('tunnelError', (err) => errors.push(err.message));
  sup.start();
  await new Promise((r) => setTimeout(r, 110));
  await sup.stop();
  assert.ok(attempts >= 3 && attempts <= 7, `about one attempt per 20 ms, got ${attempts}`);
  assert.equal(errors[0], 'refused 1');
});
