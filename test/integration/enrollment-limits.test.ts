import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import tls from 'node:tls';
import { once } from 'node:events';
import { pino } from 'pino';
import {
  encodeMessage,
  MessageDecoder,
  parseProvisioningKey,
  type Message,
} from '../../src/protocol/index.js';
import { generateKeyPairAndCsr } from '../../src/pki/index.js';
import { startTestEdge, type TestEdge } from '../harness/harness.js';

const lines: Record<string, unknown>[] = [];
let edge: TestEdge;
let csrPem: string;
before(async () => {
  const logger = pino(
    { level: 'info' },
    { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) },
  );
  edge = await startTestEdge({ logger });
  csrPem = (await generateKeyPairAndCsr({ commonName: 'postern-connector' })).csrPem;
});
after(async () => {
  await edge.stop();
});

/** What the edge answered at each step of a raw enrollment. */
interface Exchange {
  first: Message;
  second?: Message | undefined;
}

/** Speaks the enrollment protocol by hand; sends `secret` whatever the edge's proof says. */
async function enrollRaw(keyId: string, secret: string): Promise<Exchange> {
  const socket = tls.connect({
    host: '127.0.0.1',
    port: edge.tunnelAddress.port,
    ALPNProtocols: ['postern-enroll/1'],
    rejectUnauthorized: false,
  });
  socket.on('error', () => undefined);
  await once(socket, 'secureConnect');
  const decoder = new MessageDecoder();
  const queue: Message[] = [];
  let wake: (() => void) | undefined;
  socket.on('data', (chunk: Buffer) => {
    queue.push(...(decoder.push(chunk).messages as Message[]));
    wake?.();
  });
  socket.on('close', () => wake?.());
  const next = async (): Promise<Message | undefined> => {
    const deadline = Date.now() + 5000;
    while (queue.length === 0 && !socket.destroyed && Date.now() < deadline) {
      await new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 200).unref();
      });
    }
    return queue.shift();
  };
  try {
    socket.write(encodeMessage({ v: 1, type: 'enroll_hello', keyId }));
    const first = await next();
    assert.ok(first, 'the edge answered the hello');
    if (first.type !== 'enroll_challenge') return { first };
    const request = {
      v: 1,
      type: 'enroll_request',
      secret,
      csrPem,
      hostname: 'probe',
      version: '0.0.0',
      ephemeral: false,
    };
    socket.write(encodeMessage(request));
    return { first, second: await next() };
  } finally {
    socket.destroy();
  }
}

function codeOf(message: Message | undefined): string | undefined {
  return (message as { code?: string } | undefined)?.code;
}

test('an unknown key id is answered like a known one and refused like a wrong secret', async () => {
  const key = parseProvisioningKey((await edge.createKey('site-oracle')).value);
  const known = await enrollRaw(key.keyId, 'x'.repeat(43));
  const unknown = await enrollRaw('kdoesnotexist1', 'x'.repeat(43));
  assert.equal(known.first.type, 'enroll_challenge');
  assert.equal(unknown.first.type, 'enroll_challenge', 'no immediate KEY_UNKNOWN for unknown ids');
  const shape = (m: Message) =>
    Object.entries(m)
      .map(([k, v]) => [k, typeof v === 'string' ? v.length : v] as const)
      .sort();
  const sameCa = (m: Message) => (m as { caPem?: string }).caPem;
  assert.deepEqual(shape(unknown.first), shape(known.first), 'same fields, same sizes');
  assert.equal(sameCa(unknown.first), sameCa(known.first));
  assert.equal(codeOf(known.second), 'POSTERN_ERR_KEY_UNKNOWN');
  assert.equal(codeOf(unknown.second), 'POSTERN_ERR_KEY_UNKNOWN');
  const message = (m: Message | undefined, id: string) =>
    String((m as { message?: string } | undefined)?.message).replace(id, '<id>');
  assert.equal(message(unknown.second, 'kdoesnotexist1'), message(known.second, key.keyId));
});

test('failed enrollments from one address are limited after 10; successes do not count', async () => {
  const good = await edge.createKey('site-limit', { max_usage: 10 });
  const key = parseProvisioningKey(good.value);
  // The previous test failed twice from this address already.
  for (let i = 0; i < 3; i++) {
    assert.equal((await enrollRaw(key.keyId, key.secret)).second?.type, 'enroll_result');
  }
  const refusedBefore = lines.filter((l) => String(l.msg).startsWith('enrollment refused')).length;
  for (let i = 0; i < 8; i++) {
    const { second } = await enrollRaw(key.keyId, 'y'.repeat(43));
    assert.equal(codeOf(second), 'POSTERN_ERR_KEY_UNKNOWN', `failure ${i + 3} is a plain refusal`);
  }
  const limited = await enrollRaw(key.keyId, key.secret);
  assert.equal(codeOf(limited.first), 'POSTERN_ERR_ENROLLMENT_RATE_LIMITED');
  assert.match(String((limited.first as { message?: string }).message), /for \d+ s/);
  const usage = await edge.api<{ usage_count: number }>('GET', `/provisioning-keys/${good.id}`);
  assert.equal(usage.body.usage_count, 3, 'only the successes used the key');
  // Ten refusals and a rate-limit refusal from one address: one log line for all of them.
  const refused = lines.filter((l) => String(l.msg).startsWith('enrollment refused'));
  assert.equal(refused.length, 1, `one line, not ${refused.length}`);
  assert.ok(refusedBefore <= 1);
});
