import type { AccessAction } from '../../config/index.js';
import type { AccessRequest, AccessRule, CompiledRule } from './compiled-rule.js';
import { compileRule } from './compiled-rule.js';
import { policyErrors } from './errors.js';
import { parseIpAddress } from './ip-address.js';

/** What the engine decided and why. */
export interface AccessDecision {
  readonly action: AccessAction;
  /** The rule that decided; undefined when no rule matched (default deny). */
  readonly rule: string | undefined;
  /** A sentence for logs and the 403 page. */
  readonly reason: string;
}

/**
 * Ordered access rules, like ZPA's access policy: evaluated top-down, the first rule whose
 * conditions all hold decides, and a request no rule matches is denied. Pure and immutable:
 * reordering returns a new engine, so a running decision never sees a half-applied order.
 */
export class PolicyEngine {
  readonly #rules: readonly CompiledRule[];

  /** Compiles the rules in evaluation order. */
  constructor(rules: readonly AccessRule[]) {
    this.#rules = rules.map(compileRule);
  }

  /** Rule names in evaluation order. */
  get ruleNames(): readonly string[] {
    return this.#rules.map((r) => r.name);
  }

  /** Decides one request: the first matching rule's action, or deny when none matches. */
  decide(request: AccessRequest): AccessDecision {
    const prepared = { request, source: parseIpAddress(request.sourceIp) };
    const rule = this.#rules.find((r) => r.matches(prepared));
    if (rule === undefined) {
      return {
        action: 'deny',
        rule: undefined,
        reason: 'no access rule matched, so access is denied by default',
      };
    }
    const why =
      rule.conditionNames.length === 0
        ? 'it has no conditions'
        : `its ${rule.conditionNames.join(', ')} matched`;
    const verb = rule.action === 'allow' ? 'allowed' : 'denied';
    return {
      action: rule.action,
      rule: rule.name,
      reason: `${verb} by rule "${rule.name}": ${why}`,
    };
  }

  /**
   * A new engine with the same rules in the given order; throws POSTERN_ERR_POLICY_ORDER unless
   * `names` lists every current rule exactly once.
   */
  reorder(names: readonly string[]): PolicyEngine {
    const byName = new Map(this.#rules.map((r) => [r.name, r.rule]));
    const seen = new Set<string>();
    for (const name of names) {
      if (!byName.has(name)) throw policyErrors.badOrder(`there is no rule "${name}"`);
      if (seen.has(name)) throw policyErrors.badOrder(`"${name}" is listed twice`);
      seen.add(name);
    }
    const missing = this.ruleNames.filter((n) => !seen.has(n));
    if (missing.length > 0) throw policyErrors.badOrder(`"${missing.join('", "')}" missing`);
    return new PolicyEngine(names.map((n) => byName.get(n)).filter((r) => r !== undefined));
  }
}
