import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Identifiers } from '../../protocol/index.js';
import { parseProxyStrategies, selectConnector, type Candidate } from './proxy-strategies.js';

function connector(
  id: string,
  ids: Partial<Identifiers>,
  extra: Partial<Candidate> = {},
): Candidate {
  return {
    connectorId: id,
    identifiers: { host: [], ipv4: [], ipv6: [], cidr: [], defaultRoute: false, ...ids },
    activeSessions: 0,
    draining: false,
    ...extra,
  };
}

const node1 = connector('node1', {
  host: ['node1', 'Node1.Example.com'],
  ipv4: ['10.0.0.5'],
  ipv6: ['fd00::5'],
});
const wide = connector('wide', { cidr: ['10.0.0.0/8'] });
const narrow = connector('narrow', { cidr: ['10.1.0.0/16', 'fd00:1::/32'] });
const gateway = connector('gateway', { defaultRoute: true });
const plain = connector('plain', {});
const all = [node1, wide, narrow, gateway, plain];
const pick = (host: string, strategies: string, list = all, tieBreak = 0) =>
  selectConnector(list, host, { strategies: parseProxyStrategies(strategies), tieBreak });

test('destHost matches host names case-insensitively and addresses in canonical form', () => {
  assert.equal(pick('node1', 'destHost')?.connector, node1);
  assert.equal(pick('node1.example.com', 'destHost')?.connector, node1);
  assert.equal(pick('10.0.0.5', 'destHost')?.connector, node1);
  assert.equal(pick('fd00:0:0::5', 'destHost')?.connector, node1);
  assert.equal(pick('node2', 'destHost'), undefined);
  assert.equal(pick('10.0.0.6', 'destHost'), undefined);
});

test('cidr picks the longest matching prefix, and only for IP destinations', () => {
  assert.equal(pick('10.1.2.3', 'cidr')?.connector, narrow);
  assert.equal(pick('10.2.0.1', 'cidr')?.connector, wide);
  assert.equal(pick('fd00:1::9', 'cidr')?.connector, narrow);
  assert.equal(pick('192.168.0.1', 'cidr'), undefined);
  assert.equal(pick('node1', 'cidr'), undefined);
  const selection = pick('10.1.2.3', 'cidr');
  assert.equal(selection?.strategy, 'cidr');
});

test('cidr falls back to a shorter prefix when the longest one only has draining connectors', () => {
  const drainingNarrow = { ...narrow, draining: true };
  assert.equal(pick('10.1.2.3', 'cidr', [wide, drainingNarrow])?.connector, wide);
});

test('strategies are tried in order; the first that offers a connector wins', () => {
  assert.deepEqual(
    [pick('10.0.0.5', 'destHost,cidr')?.strategy, pick('10.0.0.5', 'destHost,cidr')?.connector],
    ['destHost', node1],
  );
  assert.equal(pick('10.0.0.5', 'cidr,destHost')?.connector, wide);
  assert.equal(pick('172.16.0.1', 'destHost,cidr,defaultRoute')?.connector, gateway);
  assert.equal(pick('172.16.0.1', 'destHost,cidr'), undefined);
  assert.equal(pick('anything', 'destHost,default')?.strategy, 'default');
});

test('among candidates the least loaded wins; ties rotate with tieBreak', () => {
  const a = connector('a', { defaultRoute: true }, { activeSessions: 3 });
  const b = connector('b', { defaultRoute: true }, { activeSessions: 1 });
  const c = connector('c', { defaultRoute: true }, { activeSessions: 1 });
  const chosen = new Set<string>();
  for (let turn = 0; turn < 4; turn++) {
    chosen.add(pick('x', 'defaultRoute', [a, b, c], turn)!.connector.connectorId);
  }
  assert.deepEqual([...chosen].sort(), ['b', 'c']);
});

test('draining and excluded connectors are never picked', () => {
  const d = connector('d', { host: ['node9'] }, { draining: true });
  assert.equal(pick('node9', 'destHost,default', [d]), undefined);
  const selection = selectConnector([node1, plain], 'node1', {
    strategies: ['destHost', 'default'],
    exclude: new Set(['node1']),
  });
  assert.deepEqual([selection?.connector, selection?.strategy], [plain, 'default']);
});

test('parseProxyStrategies accepts the four names in any order and rejects anything else', () => {
  assert.deepEqual(parseProxyStrategies('destHost,cidr,defaultRoute,default'), [
    'destHost',
    'cidr',
    'defaultRoute',
    'default',
  ]);
  assert.deepEqual(parseProxyStrategies(' default , destHost'), ['default', 'destHost']);
  for (const bad of ['', 'desthost', 'destHost,,default', 'default,default', 'zone']) {
    assert.throws(
      () => parseProxyStrategies(bad),
      { code: 'POSTERN_ERR_KONNECTIVITY_STRATEGY' },
      bad,
    );
  }
});
