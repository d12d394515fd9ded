import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseIperfJson } from './iperf3.js';

/** The shape `iperf3 -c … -J` prints (3.12), trimmed to the fields around the ones read. */
function report(streams: number, received: number, sent: number): string {
  return JSON.stringify({
    start: { connecting_to: { host: '127.0.0.1', port: 5201 } },
    end: {
      streams: Array.from({ length: streams }, () => ({ sender: {}, receiver: {} })),
      sum_sent: { seconds: 5, bytes: sent, bits_per_second: (sent * 8) / 5, retransmits: 3 },
      sum_received: { seconds: 5.02, bytes: received, bits_per_second: (received * 8) / 5.02 },
    },
  });
}

test('parseIperfJson takes the receiver sum, not what the sender wrote into a proxy', () => {
  const r = parseIperfJson(report(100, 1e9, 2e9));
  assert.equal(r.bytes, 1e9);
  assert.equal(r.bitsPerSecond, (1e9 * 8) / 5.02);
  assert.equal(r.seconds, 5.02);
  assert.equal(r.retransmits, 3);
  assert.equal(r.streams, 100);
});

test("parseIperfJson surfaces iperf3's own error message", () => {
  const text = JSON.stringify({
    start: {},
    end: {},
    error: 'unable to connect to server: Connection refused',
  });
  assert.throws(() => parseIperfJson(text), /iperf3 failed: unable to connect to server/);
});

test('parseIperfJson rejects output that is not a report', () => {
  assert.throws(() => parseIperfJson('iperf3: error - the server is busy'), /no JSON report/);
  assert.throws(
    () => parseIperfJson(JSON.stringify({ end: { sum_sent: {} } })),
    /no end.sum_received/,
  );
});
