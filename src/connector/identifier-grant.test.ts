import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Identifiers } from '../protocol/index.js';
import { identifierGrant } from './identifier-grant.js';
import { TargetPolicy } from './target-policy.js';

const ids = (extra: Partial<Identifiers>): Identifiers => ({
  host: [],
  ipv4: [],
  ipv6: [],
  cidr: [],
  defaultRoute: false,
  ...extra,
});
const policyOf = (identifiers: Identifiers): TargetPolicy => {
  const grant = identifierGrant(identifiers);
  return new TargetPolicy(grant.rules, { allowAll: grant.allowAll });
};

test('a connector without identifiers or targets may dial nothing', () => {
  const policy = policyOf(ids({}));
  assert.equal(policy.allowsName({ host: 'node1', port: 10250 }), false);
  assert.equal(policy.allowsAddress('10.0.0.5', 10250), false);
});

test('advertised host names, addresses and CIDRs are dialable on any port, nothing else', () => {
  const policy = policyOf(
    ids({ host: ['node1'], ipv4: ['10.0.0.5'], ipv6: ['fd00::5'], cidr: ['10.1.0.0/16'] }),
  );
  assert.equal(policy.allowsName({ host: 'NODE1', port: 10250 }), true);
  assert.equal(policy.allowsName({ host: 'node1', port: 22 }), true);
  assert.equal(policy.allowsName({ host: 'sub.node1', port: 10250 }), false);
  assert.equal(policy.allowsName({ host: 'node2', port: 10250 }), false);
  assert.equal(policy.allowsAddress('10.0.0.5', 10250), true);
  assert.equal(policy.allowsAddress('10.0.0.6', 10250), false);
  assert.equal(policy.allowsAddress('fd00::5', 443), true);
  assert.equal(policy.allowsAddress('fd00::6', 443), false);
  assert.equal(policy.allowsAddress('10.1.200.7', 8080), true);
  assert.equal(policy.allowsAddress('10.2.0.1', 8080), false);
});

test('a wildcard-looking host identifier never becomes a wildcard grant', () => {
  const policy = policyOf(ids({ host: ['*.corp.example'] }));
  assert.equal(policy.allowsName({ host: 'db.corp.example', port: 5432 }), false);
});

test('default-route=true allows every destination (operator consent to be a route)', () => {
  const policy = policyOf(ids({ defaultRoute: true }));
  assert.equal(policy.allowsName({ host: 'anything.example', port: 1 }), true);
  assert.equal(policy.allowsAddress('192.0.2.1', 65535), true);
});
