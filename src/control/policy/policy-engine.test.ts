import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { isPosternError } from '../../core/index.js';
import type { AccessPolicy } from '../../config/index.js';
import { accessPolicySchema, mergeDocuments, parseDocument } from '../../config/index.js';
import type { AccessRequest } from './compiled-rule.js';
import { PolicyEngine } from './policy-engine.js';

function rule(name: string, action: 'allow' | 'deny', conditions = {}): AccessPolicy {
  return accessPolicySchema.parse({ name, action, conditions });
}

const alice: AccessRequest = {
  user: { subject: 'sub-alice', email: 'Alice@Example.com', groups: ['eng', 'db-admins'] },
  clientType: 'tcp_client',
  sourceIp: '192.0.2.10',
  application: 'db',
  virtualServer: 'wiki',
};

test('with no rules, or none matching, access is denied by default with no rule named', () => {
  for (const engine of [
    new PolicyEngine([]),
    new PolicyEngine([rule('r', 'allow', { groups: ['ops'] })]),
  ]) {
    const decision = engine.decide(alice);
    assert.equal(decision.action, 'deny');
    assert.equal(decision.rule, undefined);
    assert.match(decision.reason, /denied by default/);
  }
});

test('the first matching rule decides; later rules are not consulted', () => {
  const engine = new PolicyEngine([
    rule('ops-only', 'allow', { groups: ['ops'] }),
    rule('deny-db', 'deny', { applications: ['db'] }),
    rule('allow-eng', 'allow', { groups: ['eng'] }),
  ]);
  assert.deepEqual(engine.decide(alice), {
    action: 'deny',
    rule: 'deny-db',
    reason: 'denied by rule "deny-db": its applications matched',
  });
  assert.equal(engine.decide({ ...alice, application: 'wiki' }).rule, 'allow-eng');
});

test('a rule without conditions, or with empty ones, matches every request', () => {
  for (const conditions of [{}, { users: [], groups: [], source_cidrs: [] }]) {
    const decision = new PolicyEngine([rule('all', 'allow', conditions)]).decide({
      clientType: 'system',
      sourceIp: 'not an address',
    });
    assert.deepEqual(decision, {
      action: 'allow',
      rule: 'all',
      reason: 'allowed by rule "all": it has no conditions',
    });
  }
});

test('reordering returns a new engine with the new order and leaves the old one alone', () => {
  const engine = new PolicyEngine([
    rule('allow-eng', 'allow', { groups: ['eng'] }),
    rule('deny-db', 'deny', { applications: ['db'] }),
  ]);
  const reordered = engine.reorder(['deny-db', 'allow-eng']);
  assert.deepEqual(reordered.ruleNames, ['deny-db', 'allow-eng']);
  assert.equal(reordered.decide(alice).action, 'deny');
  assert.equal(engine.decide(alice).action, 'allow');
});

test('a new order must name every rule exactly once', () => {
  const engine = new PolicyEngine([rule('a', 'allow'), rule('b', 'deny')]);
  for (const [order, why] of [
    [['a'], /"b" missing/],
    [['a', 'b', 'c'], /no rule "c"/],
    [['a', 'a', 'b'], /"a" is listed twice/],
  ] as const) {
    assert.throws(
      () => engine.reorder(order),
      (err) => isPosternError(err, 'POSTERN_ERR_POLICY_ORDER') && why.test(err.message),
    );
  }
});

/** Decides alice's request (with changes) against one allow rule with the given conditions. */
function allows(conditions: object, changes: Partial<AccessRequest> = {}): boolean {
  const engine = new PolicyEngine([rule('r', 'allow', conditions)]);
  return engine.decide({ ...alice, ...changes }).action === 'allow';
}

test('users match the subject exactly or the email without case', () => {
  assert.equal(allows({ users: ['sub-alice'] }), true);
  assert.equal(allows({ users: ['SUB-ALICE'] }), false);
  assert.equal(allows({ users: ['alice@example.com'] }), true);
  assert.equal(allows({ users: ['bob@example.com'] }), false);
  assert.equal(allows({ users: ['sub-alice'] }, { user: undefined }), false);
});

test('groups match when the user is in at least one of them', () => {
  assert.equal(allows({ groups: ['ops', 'db-admins'] }), true);
  assert.equal(allows({ groups: ['ops'] }), false);
  assert.equal(allows({ groups: ['eng'] }, { user: undefined }), false);
});

test('applications and virtual servers match by name and need the request to name one', () => {
  assert.equal(allows({ applications: ['db', 'wiki'] }), true);
  assert.equal(allows({ applications: ['wiki'] }), false);
  assert.equal(allows({ applications: ['db'] }, { application: undefined }), false);
  assert.equal(allows({ virtual_servers: ['wiki'] }), true);
  assert.equal(allows({ virtual_servers: ['shop'] }), false);
  assert.equal(allows({ virtual_servers: ['wiki'] }, { virtualServer: undefined }), false);
});

test('client types match the request client type', () => {
  assert.equal(allows({ client_types: ['tcp_client'] }), true);
  assert.equal(allows({ client_types: ['browser', 'system'] }), false);
  assert.equal(allows({ client_types: ['browser'] }, { clientType: 'browser' }), true);
});

test('source networks match IPv4 and IPv6 sources by prefix', () => {
  assert.equal(allows({ source_cidrs: ['192.0.2.0/24'] }), true);
  assert.equal(allows({ source_cidrs: ['198.51.100.0/24', '2001:db8::/32'] }), false);
  assert.equal(allows({ source_cidrs: ['2001:db8::/32'] }, { sourceIp: '2001:db8::5' }), true);
  assert.equal(allows({ source_cidrs: ['0.0.0.0/0'] }, { sourceIp: 'garbage' }), false);
});

test('every condition given must hold and the reason lists them', () => {
  const all = {
    users: ['sub-alice'],
    groups: ['eng'],
    applications: ['db'],
    virtual_servers: ['wiki'],
    client_types: ['tcp_client'],
    source_cidrs: ['192.0.2.0/24'],
  };
  const decision = new PolicyEngine([rule('r', 'allow', all)]).decide(alice);
  assert.equal(
    decision.reason,
    'allowed by rule "r": its users, groups, applications, virtual_servers, client_types, source_cidrs matched',
  );
  for (const [key, miss] of Object.entries({
    users: ['bob'],
    groups: ['ops'],
    applications: ['x'],
    virtual_servers: ['x'],
    client_types: ['system'],
    source_cidrs: ['10.0.0.0/8'],
  })) {
    assert.equal(allows({ ...all, [key]: miss }), false, `${key} alone should fail the rule`);
  }
});

test('the decision is the action of the first rule that holds, for any rule list (property)', () => {
  const group = fc.constantFrom('eng', 'ops', 'db-admins', 'sales');
  const ruleArb = fc.record({
    action: fc.constantFrom('allow' as const, 'deny' as const),
    groups: fc.array(group, { maxLength: 2 }),
  });
  fc.assert(
    fc.property(fc.array(ruleArb, { maxLength: 8 }), fc.array(group), (specs, userGroups) => {
      const rules = specs.map((s, i) => rule(`r${i}`, s.action, { groups: s.groups }));
      const request = { ...alice, user: { subject: 's', groups: userGroups } };
      const first = specs.findIndex(
        (s) => s.groups.length === 0 || s.groups.some((g) => userGroups.includes(g)),
      );
      const decision = new PolicyEngine(rules).decide(request);
      if (first < 0) return decision.action === 'deny' && decision.rule === undefined;
      return decision.rule === `r${first}` && decision.action === specs[first]?.action;
    }),
    { numRuns: 300 },
  );
});

test('rules from a parsed configuration decide in document order', () => {
  const yaml = [
    'version: 1',
    'access_policies:',
    '  - {name: deny-tcp, action: deny, conditions: {client_types: [tcp_client]}}',
    '  - {name: allow-eng, action: allow, conditions: {groups: [eng]}}',
  ].join('\n');
  const cfg = mergeDocuments([parseDocument(yaml, { fileName: 'p.yaml' })]);
  const engine = new PolicyEngine(cfg.access_policies);
  assert.equal(engine.decide(alice).rule, 'deny-tcp');
  assert.equal(engine.decide({ ...alice, clientType: 'browser' }).rule, 'allow-eng');
});
