import type { AccessAction, ClientType, CollectionObject } from '../../config/index.js';
import type { IpAddress } from './ip-address.js';
import { parseCidr } from './ip-address.js';
import { PrefixTable } from './prefix-table.js';

/** A validated, frozen access rule from the configuration. */
export type AccessRule = CollectionObject<'access_policies'>;

/** Who is asking, as the identity provider described them. */
export interface AccessUser {
  readonly subject: string;
  readonly email?: string | undefined;
  readonly groups: readonly string[];
}

/** One request for access, as the edge saw it. */
export interface AccessRequest {
  readonly user?: AccessUser | undefined;
  readonly clientType: ClientType;
  readonly sourceIp: string;
  /** Name of the application the destination matched, if any. */
  readonly application?: string | undefined;
  /** Name of the virtual server the request came through, if any. */
  readonly virtualServer?: string | undefined;
}

/** The request with its source address parsed once for every rule. */
export interface PreparedRequest {
  readonly request: AccessRequest;
  readonly source: IpAddress | undefined;
}

type Condition = (req: PreparedRequest) => boolean;

/** An access rule with its conditions turned into sets and tables. */
export interface CompiledRule {
  readonly name: string;
  readonly action: AccessAction;
  readonly rule: AccessRule;
  /** Names of the conditions the rule has; empty when it matches every request. */
  readonly conditionNames: readonly string[];
  readonly matches: (req: PreparedRequest) => boolean;
}

/** Compiles one rule; an absent or empty condition matches any request. */
export function compileRule(rule: AccessRule): CompiledRule {
  const c = rule.conditions;
  const named: [string, Condition | undefined][] = [
    ['users', users(c.users)],
    ['groups', groups(c.groups)],
    ['applications', oneOf(c.applications, (r) => r.application)],
    ['virtual_servers', oneOf(c.virtual_servers, (r) => r.virtualServer)],
    ['client_types', oneOf(c.client_types, (r) => r.clientType)],
    ['source_cidrs', sources(c.source_cidrs)],
  ];
  const present = named.filter((n): n is [string, Condition] => n[1] !== undefined);
  const checks = present.map(([, check]) => check);
  return {
    name: rule.name,
    action: rule.action,
    rule,
    conditionNames: present.map(([name]) => name),
    matches: (req) => checks.every((check) => check(req)),
  };
}

function isEmpty(list: readonly unknown[] | undefined): list is undefined {
  return list === undefined || list.length === 0;
}

/** Subjects compare exactly; emails compare without case, as mail providers treat them. */
function users(list: readonly string[] | undefined): Condition | undefined {
  if (isEmpty(list)) return undefined;
  const exact = new Set(list);
  const folded = new Set(list.map((u) => u.toLowerCase()));
  return ({ request: { user } }) =>
    user !== undefined &&
    (exact.has(user.subject) || (user.email !== undefined && folded.has(user.email.toLowerCase())));
}

function groups(list: readonly string[] | undefined): Condition | undefined {
  if (isEmpty(list)) return undefined;
  const wanted = new Set(list);
  return ({ request: { user } }) => user !== undefined && user.groups.some((g) => wanted.has(g));
}

function oneOf(
  list: readonly string[] | undefined,
  value: (req: AccessRequest) => string | undefined,
): Condition | undefined {
  if (isEmpty(list)) return undefined;
  const wanted = new Set(list);
  return ({ request }) => {
    const v = value(request);
    return v !== undefined && wanted.has(v);
  };
}

function sources(list: readonly string[] | undefined): Condition | undefined {
  if (isEmpty(list)) return undefined;
  const table = new PrefixTable<true>();
  for (const cidr of list) {
    const network = parseCidr(cidr);
    if (network !== undefined) table.add(network, true);
  }
  return ({ source }) => source !== undefined && table.has(source);
}
