import { test } from 'node:test';
import assert from 'node:assert/strict';
import { identifiersSchema } from '../protocol/index.js';
import { parseAgentIdentifiers } from './agent-identifiers.js';

test("Konnectivity's agent identifiers parse into the hello's identifiers", () => {
  const ids = parseAgentIdentifiers(
    'host=node1&host=Node1.Example.com&ipv4=10.0.0.5&ipv6=fd00::5&cidr=10.0.0.0/16&cidr=fd00:1::/32&default-route=true',
  );
  assert.deepEqual(ids, {
    host: ['node1', 'node1.example.com'],
    ipv4: ['10.0.0.5'],
    ipv6: ['fd00::5'],
    cidr: ['10.0.0.0/16', 'fd00:1::/32'],
    defaultRoute: true,
  });
  // What the edge will accept in a hello.
  assert.equal(identifiersSchema.safeParse(ids).success, true);
});

test('an empty value means no identifiers; %-encoding is decoded', () => {
  assert.deepEqual(parseAgentIdentifiers(''), {
    host: [],
    ipv4: [],
    ipv6: [],
    cidr: [],
    defaultRoute: false,
  });
  assert.deepEqual(parseAgentIdentifiers('cidr=10.0.0.0%2F8&ipv6=fd00%3A%3A1').cidr, [
    '10.0.0.0/8',
  ]);
  assert.equal(parseAgentIdentifiers('default-route=false').defaultRoute, false);
});

test('unknown keys and bad values are refused with a coded error that names them', () => {
  const cases: [string, RegExp][] = [
    ['zone=a', /unknown key "zone"/],
    ['ipv4=10.0.0.256', /ipv4/],
    ['ipv4=fd00::1', /ipv4/],
    ['ipv6=10.0.0.1', /ipv6/],
    ['cidr=10.0.0.0', /cidr/],
    ['cidr=10.0.0.0/33', /cidr/],
    ['host=*.corp.example', /host/],
    ['host=a b', /host/],
    ['default-route=yes', /default-route/],
  ];
  for (const [text, why] of cases) {
    assert.throws(
      () => parseAgentIdentifiers(text),
      (err: Error & { code?: string }) =>
        err.code === 'POSTERN_ERR_AGENT_IDENTIFIERS' && why.test(err.message),
      text,
    );
  }
});

test('more values than a hello may carry are refused at the flag, not at the edge', () => {
  const many = Array.from({ length: 65 }, (_, i) => `host=h${i}`).join('&');
  assert.throws(() => parseAgentIdentifiers(many), /more than 64 host/);
});
