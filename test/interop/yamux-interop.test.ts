// Wire interop between Postern's MuxSession and hashicorp/yamux (Debian's build), over TCP on
// 127.0.0.1, with Postern in each role. The Go peer (test/peers/yamux-peer) reports what it
// saw on the wire through a frame tap, so window growth is checked from the other side.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { after, before, describe, test } from 'node:test';
import { INITIAL_WINDOW } from '../../src/protocol/index.js';
import type { MuxSession } from '../../src/tunnel/index.js';
import { buildGoPeer } from '../support/go-peer.js';
import { patternBytes, readAll, writePattern } from '../support/stream-data.js';
import { AFTER_FIN_BYTES, startPair } from './yamux-pair.js';
import type { YamuxPair } from './yamux-pair.js';
import type { PeerEvent, PeerStreamStats } from './yamux-peer-process.js';

const KiB = 1024;
const MiB = 1024 * KiB;
const WINDOW_16M = 16 * MiB;

interface OpenResult extends PeerEvent {
  ok: boolean;
  error?: string;
  streams: { streamId: number; ok: boolean; error?: string; stats: PeerStreamStats }[];
}

let binary = '';
before(async () => {
  // Throws "… run scripts/setup-test-host.sh" when Go or the yamux source is missing: every
  // test below then fails with that message instead of being skipped.
  binary = await buildGoPeer('yamux-peer');
});

/** Opens a Postern stream in `mode`, writes `bytes` of pattern data with FIN, returns sent/received. */
async function roundTrip(session: MuxSession, mode: 'E' | 'S', bytes: number, seed: number) {
  const stream = session.openStream();
  stream.write(Buffer.from(mode));
  const [sent, received] = await Promise.all([
    writePattern(stream, bytes, { seed }),
    readAll(stream, { timeoutMs: 60_000 }),
  ]);
  return { stream, sent, received };
}

function expectParity(ids: number[], opener: 'client' | 'server'): void {
  const parity = opener === 'client' ? 1 : 0;
  assert.ok(
    ids.every((id) => id % 2 === parity),
    `ids ${ids.join(',')} must all have the ${opener}'s parity`,
  );
  assert.equal(new Set(ids).size, ids.length, 'stream ids must be distinct');
}

function roleSuite(posternRole: 'client' | 'server'): void {
  const goRole = posternRole === 'client' ? 'server' : 'client';
  describe(`Postern as yamux ${posternRole}, hashicorp/yamux as ${goRole}`, () => {
    let pair: YamuxPair;
    before(async () => {
      pair = await startPair(binary, { posternRole, session: { maxWindow: WINDOW_16M } });
    });
    after(async () => {
      await pair?.dispose();
    });

    test('64 concurrent Postern-opened streams are echoed intact by the Go peer', async () => {
      const runs = await Promise.all(
        Array.from({ length: 64 }, (_, i) => roundTrip(pair.session, 'E', 256 * KiB, i + 1)),
      );
      for (const r of runs) {
        assert.equal(r.received.bytes, 256 * KiB);
        assert.equal(r.received.sha256, r.sent, `echo of stream ${r.stream.id} differs`);
      }
      expectParity(
        runs.map((r) => r.stream.id),
        posternRole,
      );
    });

    test('64 concurrent Go-opened streams are accepted and echoed intact by Postern', async () => {
      const before = pair.accepted.length;
      const res = (await pair.peer.command('open', {
        streams: 64,
        bytes: 256 * KiB,
      })) as OpenResult;
      assert.equal(res.ok, true, res.error);
      assert.equal(res.streams.length, 64);
      assert.equal(pair.accepted.length - before, 64);
      expectParity(
        res.streams.map((s) => s.streamId),
        goRole,
      );
    });

    test('streams opened by both sides at the same time do not collide', async () => {
      const [ours, theirs] = await Promise.all([
        Promise.all(
          Array.from({ length: 16 }, (_, i) => roundTrip(pair.session, 'E', 64 * KiB, 100 + i)),
        ),
        pair.peer.command('open', { streams: 16, bytes: 64 * KiB }) as Promise<OpenResult>,
      ]);
      assert.equal(theirs.ok, true, theirs.error);
      for (const r of ours) assert.equal(r.received.sha256, r.sent);
      const ids = [...ours.map((r) => r.stream.id), ...theirs.streams.map((s) => s.streamId)];
      assert.equal(new Set(ids).size, 32);
    });

    test("32 MiB each way on one Postern-opened stream, and Postern grows the Go sender's window past 256 KiB", async () => {
      const { stream, sent, received } = await roundTrip(pair.session, 'E', 32 * MiB, 7);
      assert.equal(received.bytes, 32 * MiB);
      assert.equal(received.sha256, sent);
      const done = await pair.peer.waitFor(
        (e) => e.event === 'echo-done' && e['streamId'] === stream.id,
      );
      assert.equal(done['bytes'], 32 * MiB);
      const stats = done['stats'] as PeerStreamStats;
      // The Go peer echoes to Postern: its send credit can exceed 256 KiB only if Postern's
      // window updates granted more than Postern had received.
      assert.ok(
        stats.peakSendCredit > INITIAL_WINDOW,
        `Go peer's peak send credit ${stats.peakSendCredit} should exceed ${INITIAL_WINDOW}`,
      );
    });

    test('32 MiB each way on one Go-opened stream, and Postern grants the Go sender more than 256 KiB', async () => {
      const res = (await pair.peer.command('open', { streams: 1, bytes: 32 * MiB })) as OpenResult;
      assert.equal(res.ok, true, res.error);
      const stats = res.streams[0]?.stats;
      assert.ok(stats !== undefined);
      assert.equal(stats.dataIn, 32 * MiB, 'the Go peer received the whole echo');
      assert.ok(stats.peakSendCredit > INITIAL_WINDOW, `peak send credit ${stats.peakSendCredit}`);
    });

    test('Postern sends past 256 KiB on the window the Go peer grants, and reads the reply after its own FIN', async () => {
      const { stream, sent, received } = await roundTrip(pair.session, 'S', 8 * MiB, 11);
      const reply = JSON.parse(received.head.toString('utf8')) as Record<string, number | string>;
      assert.equal(reply['bytes'], 8 * MiB);
      assert.equal(reply['sha256'], sent);
      // The Go side waited before reading: everything that arrived by then was sent on
      // window alone. More than 256 KiB (+1 mode byte) proves Postern used the grant.
      assert.ok(
        Number(reply['receivedBeforeRead']) > 2 * INITIAL_WINDOW,
        `received before read: ${reply['receivedBeforeRead']}`,
      );
      assert.ok(stream.stats.maxSendWindow > INITIAL_WINDOW);
    });

    test('after the Go peer half-closes, Postern reads end, can still write, and its FIN closes the stream', async () => {
      const res = await pair.peer.command('send', { bytes: 2 * MiB });
      assert.equal(res['ok'], true, String(res['error']));
      const outcome = await pair.finOutcome(Number(res['streamId']));
      assert.equal(outcome.bytes, 2 * MiB);
      assert.equal(outcome.sha256, res['sha256']);
      assert.equal(outcome.writableAtEnd, true);
      const stats = res['stats'] as PeerStreamStats;
      assert.equal(
        stats.dataInAfterFinOut,
        AFTER_FIN_BYTES,
        `Go saw the bytes Postern wrote after FIN: ${JSON.stringify(stats)}`,
      );
      assert.equal(stats.finIn, true, "Go saw Postern's FIN");
      assert.equal(stats.rstIn, false);
    });

    test('pings work both ways: Postern answers the Go peer and measures its own RTT', async () => {
      const res = await pair.peer.command('ping', { count: 3 });
      assert.equal(res['ok'], true, String(res['error']));
      assert.equal((res['rttsUs'] as number[]).length, 3);
      const before = (await pair.peer.command('stats'))['session'] as { pingsIn: number };
      const rtt = await pair.session.ping();
      assert.ok(Number.isFinite(rtt) && rtt >= 0, `rtt ${rtt}`);
      assert.equal(pair.session.rttMs, rtt);
      const after = (await pair.peer.command('stats'))['session'] as { pingsIn: number };
      assert.ok(after.pingsIn > before.pingsIn, "the Go peer saw Postern's ping on the wire");
    });

    test('close() ends the session and the Go peer sees a clean close', async () => {
      await pair.session.close();
      assert.equal(pair.session.closed, true);
      await pair.peer.waitFor((e) => e.event === 'session-closed', 10_000);
      const exit = await pair.peer.exited;
      assert.equal(exit.code, 0, pair.peer.stderr);
    });
  });

  describe(`stream ids with Postern as yamux ${posternRole}`, () => {
    test('streams are accepted even when the Go peer sends their SYNs out of id order', async (t) => {
      // hashicorp/yamux allocates ids atomically but sends each SYN from the opening
      // goroutine, so concurrent opens reach the wire out of order; the spec allows it.
      const pair = await startPair(binary, { posternRole, session: { maxWindow: WINDOW_16M } });
      try {
        let outOfOrder = 0;
        for (let round = 0; round < 8 && outOfOrder === 0; round++) {
          const res = (await pair.peer.command('open', {
            streams: 64,
            bytes: 4 * KiB,
          })) as OpenResult;
          assert.equal(
            res.ok,
            true,
            `round ${round}: ${res.error}; ${pair.peer.stderr.slice(-300)}`,
          );
          const stats = (await pair.peer.command('stats'))['session'] as { synsOutOfOrder: number };
          outOfOrder = stats.synsOutOfOrder;
        }
        t.diagnostic(`SYNs sent out of id order by the Go peer: ${outOfOrder}`);
        assert.equal(pair.session.closed, false);
      } finally {
        await pair.dispose();
      }
    });
  });

  describe(`go-away with Postern as yamux ${posternRole}`, () => {
    test("after Postern's go-away the Go peer cannot open streams, and its streams in flight complete", async () => {
      const pair = await startPair(binary, { posternRole, session: { maxWindow: WINDOW_16M } });
      try {
        const inFlight = pair.peer.command('open', {
          streams: 4,
          bytes: 4 * MiB,
        }) as Promise<OpenResult>;
        await pair.acceptedCount(4);
        pair.session.goAway();
        assert.equal(pair.session.goingAway, true);
        const first = await inFlight;
        assert.equal(first.ok, true, first.error);
        const second = (await pair.peer.command('open', { streams: 1, bytes: 1024 })) as OpenResult;
        assert.equal(second.ok, false);
        assert.match(String(second.error), /not accepting/);
        const session = (await pair.peer.command('stats'))['session'] as {
          goAwayIn: number | null;
        };
        assert.equal(session.goAwayIn, 0, 'go-away code 0 (normal) on the wire');
      } finally {
        await pair.dispose();
      }
    });

    test("after the Go peer's go-away Postern refuses to open streams, and its stream in flight completes", async () => {
      const pair = await startPair(binary, { posternRole, session: { maxWindow: WINDOW_16M } });
      try {
        const stream = pair.session.openStream();
        stream.write(Buffer.from('S'));
        const received = readAll(stream);
        await writePattern(stream, 1 * MiB, { seed: 3, end: false });
        const res = await pair.peer.command('goaway');
        assert.equal(res['ok'], true);
        if (!pair.session.remoteGoingAway) {
          await once(pair.session, 'goaway', { signal: AbortSignal.timeout(5_000) });
        }
        assert.throws(() => pair.session.openStream(), {
          code: 'POSTERN_ERR_TUNNEL_REMOTE_GOING_AWAY',
        });
        await writePattern(stream, 1 * MiB, { seed: 4 });
        const reply = JSON.parse((await received).head.toString('utf8')) as Record<string, unknown>;
        const expected = createHash('sha256')
          .update(patternBytes(1 * MiB, { seed: 3 }))
          .update(patternBytes(1 * MiB, { seed: 4 }))
          .digest('hex');
        assert.equal(reply['bytes'], 2 * MiB);
        assert.equal(reply['sha256'], expected, 'the stream in flight completed intact');
      } finally {
        await pair.dispose();
      }
    });
  });
}

roleSuite('client');
roleSuite('server');
