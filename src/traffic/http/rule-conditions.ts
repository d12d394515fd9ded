import { BlockList, isIP } from 'node:net';
import { httpErrors } from './errors.js';
import { compileHostPattern, pathHasPrefix } from './host-pattern.js';
import { pathForRules, prefixForRules, queryOf } from './normalized-path.js';
import type { FieldMatch, RuleCondition } from './rule-types.js';

/** What a condition reads of a request. */
export interface ConditionRequest {
  readonly method: string;
  readonly host: string;
  readonly path: string;
  readonly headers: readonly string[];
  readonly clientIp?: string | undefined;
}

/** A compiled condition: true when the rule applies. */
export type Condition = (req: ConditionRequest) => boolean;

const ALWAYS: Condition = () => true;

/** Compiles a rule's `when`: every condition given must hold (none given = always). */
export function compileCondition(rule: string, when: RuleCondition | undefined): Condition {
  if (when === undefined) return ALWAYS;
  const tests: Condition[] = [];
  if (when.host !== undefined) {
    const host = compileHostPattern(when.host);
    tests.push((req) => host(req.host));
  }
  if (when.path_prefix !== undefined) {
    const prefix = prefixForRules(when.path_prefix);
    tests.push((req) => pathHasPrefix(pathForRules(req.path), prefix));
  }
  if (when.methods !== undefined) {
    const methods = new Set(when.methods);
    tests.push((req) => methods.has(req.method));
  }
  if (when.header !== undefined) tests.push(headerCondition(rule, when.header));
  if (when.query !== undefined) tests.push(queryCondition(rule, when.query));
  if (when.cookie !== undefined) tests.push(cookieCondition(rule, when.cookie));
  if (when.client_ip !== undefined) tests.push(clientIpCondition(rule, when.client_ip));
  if (tests.length === 0) return ALWAYS;
  return (req) => tests.every((t) => t(req));
}

/** Compiles the value test of a field match; `prefix` only where `allowPrefix`. */
function valueTest(rule: string, m: FieldMatch, allowPrefix: boolean): (v: string) => boolean {
  if (m.name === '') throw httpErrors.invalidRule(rule, 'a condition has an empty name');
  const given = [m.value, allowPrefix ? m.prefix : undefined, m.present].filter(
    (x) => x !== undefined,
  );
  if (given.length !== 1 || (!allowPrefix && m.prefix !== undefined))
    throw httpErrors.invalidRule(
      rule,
      `the condition on "${m.name}" needs exactly one of value${allowPrefix ? ', prefix' : ''} or present`,
    );
  const { value, prefix } = m;
  if (value !== undefined) return (v) => v === value;
  if (prefix !== undefined) return (v) => v.startsWith(prefix);
  return () => true;
}

/** Whether some value matched, adjusted for `present: false` (matches when none is there). */
function outcome(m: FieldMatch, found: boolean): boolean {
  return m.present === false ? !found : found;
}

function headerCondition(rule: string, m: FieldMatch): Condition {
  const test = valueTest(rule, m, true);
  const lower = m.name.toLowerCase();
  return (req) => {
    const h = req.headers;
    for (let i = 0; i + 1 < h.length; i += 2)
      if ((h[i] as string).toLowerCase() === lower && test((h[i + 1] as string).trim()))
        return outcome(m, true);
    return outcome(m, false);
  };
}

function queryCondition(rule: string, m: FieldMatch): Condition {
  const test = valueTest(rule, m, false);
  return (req) => {
    const query = queryOf(req.path);
    if (query === '') return outcome(m, false);
    // URLSearchParams decodes %XX and `+` as HTML forms do; a malformed escape stays as sent.
    const values = new URLSearchParams(query).getAll(m.name);
    return outcome(m, values.some(test));
  };
}

function cookieCondition(rule: string, m: FieldMatch): Condition {
  const test = valueTest(rule, m, false);
  return (req) => {
    const h = req.headers;
    for (let i = 0; i + 1 < h.length; i += 2) {
      if ((h[i] as string).toLowerCase() !== 'cookie') continue;
      for (const pair of (h[i + 1] as string).split(';')) {
        const eq = pair.indexOf('=');
        if (eq < 0 || pair.slice(0, eq).trim() !== m.name) continue;
        if (test(pair.slice(eq + 1).trim())) return outcome(m, true);
      }
    }
    return outcome(m, false);
  };
}

function clientIpCondition(rule: string, cidrs: readonly string[]): Condition {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const slash = cidr.indexOf('/');
    const address = slash < 0 ? cidr : cidr.slice(0, slash);
    const family = isIP(address);
    const suffix = slash < 0 ? undefined : cidr.slice(slash + 1);
    const bits =
      suffix === undefined
        ? family === 6
          ? 128
          : 32
        : /^\d{1,3}$/.test(suffix)
          ? Number(suffix)
          : NaN;
    const max = family === 6 ? 128 : 32;
    if (family === 0 || !Number.isInteger(bits) || bits < 0 || bits > max)
      throw httpErrors.invalidRule(rule, `"${cidr}" is not a CIDR network such as 10.0.0.0/8`);
    list.addSubnet(address, bits, family === 6 ? 'ipv6' : 'ipv4');
  }
  return (req) => {
    const ip = req.clientIp ?? '';
    const family = isIP(ip);
    return family !== 0 && list.check(ip, family === 6 ? 'ipv6' : 'ipv4');
  };
}
