// The access proxy's sessions in the edge's metrics: a real edge with an access listener, a real
// connector, an echo app and `postern tcp`'s tunnel client, read on GET /metrics of the admin
// listener. Sessions open now, sessions ended by close reason and the bytes they carried.
import assert from 'node:assert/strict';
import type { Duplex } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { eventually } from '../harness/harness.js';
import { echoOnce } from '../harness/echo-once.js';
import { startAccessLab, type AccessLab } from './support/access-lab.js';

const alice = { subject: 'u-alice', email: 'alice@example.com', groups: ['eng'], idp: 'corp' };

/** One sample of Prometheus exposition text: its metric name, labels and value. */
interface Sample {
  readonly name: string;
  readonly labels: Readonly<Record<string, string>>;
  readonly value: number;
}

function samples(text: string): Sample[] {
  const found: Sample[] = [];
  for (const m of text.matchAll(/^([a-z_]+)(?:\{(.*)\})? (\S+)$/gm)) {
    const labels = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/([a-z_]+)="([^"]*)"/g)].map((l) => [l[1]!, l[2]!]),
    );
    found.push({ name: m[1]!, labels, value: Number(m[3]) });
  }
  return found;
}

/** The value of the sample named `name` whose labels include `labels`; 0 when none is served. */
function valueOf(all: Sample[], name: string, labels: Record<string, string> = {}): number {
  const sample = all.find(
    (s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  return sample?.value ?? 0;
}

const closedOnce = (socket: Duplex): Promise<void> =>
  new Promise((resolve) => (socket.destroyed ? resolve() : socket.once('close', () => resolve())));

describe('access proxy session metrics', { timeout: 60_000 }, () => {
  let lab: AccessLab;

  before(async () => {
    lab = await startAccessLab({ group: 'metrics-site' });
  });

  after(() => lab?.close());

  it('counts open sessions, ended sessions by close reason, and the bytes they carried', async () => {
    const scrape = async (): Promise<Sample[]> =>
      samples(await (await fetch(`${lab.edge.adminUrl}/metrics`)).text());
    /** Scrapes until `ready` holds for what the edge serves; resolves with that scrape. */
    const scrapeWhen = async (ready: (all: Sample[]) => boolean, what: string) => {
      let last: Sample[] = [];
      await eventually(async () => ready((last = await scrape())), what);
      return last;
    };
    const tcp = { client_type: 'tcp_client' };
    const open = (all: Sample[]) => valueOf(all, 'postern_edge_access_open_sessions', tcp);
    const ended = (all: Sample[], reason: string) =>
      valueOf(all, 'postern_edge_access_sessions_total', { ...tcp, reason });
    const bytes = (all: Sample[], direction: string) =>
      valueOf(all, 'postern_edge_access_session_bytes_total', { direction });

    const { token } = await lab.issueToken(alice);
    const first = await lab.openTunnel(token);
    const second = await lab.openTunnel(token);
    // 7 bytes each way through the first session, 2 through the second.
    assert.equal(await echoOnce(first, 'abc'), 'abc');
    assert.equal(await echoOnce(first, 'defg'), 'defg');
    assert.equal(await echoOnce(second, 'hi'), 'hi');
    const before = await scrape();
    assert.equal(open(before), 2, 'two sessions open');
    assert.equal(ended(before, 'closed'), 0, 'none ended yet');

    first.end();
    await closedOnce(first);
    const one = await scrapeWhen((all) => ended(all, 'closed') === 1, 'the first session ended');
    assert.equal(open(one), 1, 'one session still open');
    assert.equal(bytes(one, 'to_upstream'), 7, 'bytes the client sent through the ended session');
    assert.equal(bytes(one, 'to_client'), 7, 'bytes the app answered through it');

    second.end();
    await closedOnce(second);
    const none = await scrapeWhen((all) => ended(all, 'closed') === 2, 'the second session ended');
    assert.equal(open(none), 0, 'no session open');
    assert.equal(bytes(none, 'to_upstream'), 9);
    assert.equal(bytes(none, 'to_client'), 9);
    // Bounded labels: no user, address or session id in any access session sample.
    const access = none.filter((s) => s.name.startsWith('postern_edge_access_session'));
    const labelNames = new Set(access.flatMap((s) => Object.keys(s.labels)));
    assert.deepEqual([...labelNames].sort(), ['client_type', 'direction', 'reason']);
  });
});
