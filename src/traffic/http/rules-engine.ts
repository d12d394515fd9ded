import { httpErrors } from './errors.js';
import { removeHeader, setHeader } from './header-list.js';
import { compileHostPattern, pathHasPrefix } from './host-pattern.js';
import {
  encodePath,
  normalizePrefix,
  pathForMatching,
  pathForRules,
  prefixForRules,
  queryOf,
} from './normalized-path.js';
import type { HeaderAction, HttpRule, RequestAction, RuleCondition } from './rule-types.js';

/** The request as rules see it; `headers` is a flat list the actions edit in place. */
export interface RuleRequest {
  readonly method: string;
  /** Normalized host (lower case, no port). */
  readonly host: string;
  /**
   * Request target as received (path and query); `path_prefix` conditions and `rewrite_path`
   * see its normalized path (see normalized-path.ts).
   */
  readonly path: string;
  readonly headers: string[];
}

/** A response produced by a rule instead of the upstream. */
export interface RuleReply {
  readonly rule: string;
  readonly status: number;
  readonly headers: string[];
  readonly body: string;
}

/** What the request rules decided: the (maybe rewritten) path, or a reply that ends processing. */
export interface RuleVerdict {
  /**
   * The target to send: as received, or after a `rewrite_path` the rewritten normalized path
   * (%-encoded where needed) with the original query.
   */
  readonly path: string;
  readonly reply: RuleReply | undefined;
  /** Rules whose condition matched, whose response actions apply to the response. */
  readonly matched: readonly CompiledRule[];
}

type Condition = (req: RuleRequest) => boolean;
/** `path` is the target to send; `normalized` its normalized path once a rewrite changed it. */
interface PathState {
  path: string;
  normalized: string | undefined;
}
type RequestStep = (req: RuleRequest, state: PathState) => RuleReply | undefined;
type HeaderStep = (headers: string[]) => void;

/** A rule compiled once per configuration. */
export interface CompiledRule {
  readonly name: string;
  readonly when: Condition;
  readonly request: readonly RequestStep[];
  readonly response: readonly HeaderStep[];
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const FORBIDDEN_NAMES = new Set([
  'content-length',
  'transfer-encoding',
  'connection',
  'keep-alive',
  'upgrade',
  'te',
  'trailer',
]);
const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);
const EMPTY: readonly CompiledRule[] = [];

/** Applies declarative request and response rules; rules are validated when compiled. */
export class RulesEngine {
  readonly #rules: readonly CompiledRule[];

  /** Throws POSTERN_ERR_RULE_INVALID naming the rule when an action cannot be used. */
  constructor(rules: readonly HttpRule[] = []) {
    this.#rules = rules.map(compileRule);
  }

  /** True when there is no rule, so callers can skip rule processing altogether. */
  get isEmpty(): boolean {
    return this.#rules.length === 0;
  }

  /** Runs the request actions of every matching rule, in order, until a redirect or deny. */
  applyRequest(req: RuleRequest): RuleVerdict {
    const state: PathState = { path: req.path, normalized: undefined };
    let matched: CompiledRule[] | undefined;
    for (const rule of this.#rules) {
      if (!rule.when(req)) continue;
      (matched ??= []).push(rule);
      for (const step of rule.request) {
        const reply = step(req, state);
        if (reply) return { path: state.path, reply, matched };
      }
    }
    return { path: state.path, reply: undefined, matched: matched ?? EMPTY };
  }

  /** Runs the response actions of the rules that matched the request. */
  applyResponse(matched: readonly CompiledRule[], headers: string[]): void {
    for (const rule of matched) for (const step of rule.response) step(headers);
  }
}

function compileRule(rule: HttpRule): CompiledRule {
  return {
    name: rule.name,
    when: compileCondition(rule.when),
    request: (rule.request ?? []).map((a) => compileRequestAction(rule.name, a)),
    response: (rule.response ?? []).map((a) => compileHeaderAction(rule.name, a)),
  };
}

function compileCondition(when: RuleCondition | undefined): Condition {
  const host = when?.host === undefined ? undefined : compileHostPattern(when.host);
  const prefix = when?.path_prefix === undefined ? undefined : prefixForRules(when.path_prefix);
  const methods = when?.methods === undefined ? undefined : new Set(when.methods);
  return (req) =>
    (host === undefined || host(req.host)) &&
    (prefix === undefined || pathHasPrefix(pathForRules(req.path), prefix)) &&
    (methods === undefined || methods.has(req.method));
}

function compileHeaderAction(rule: string, action: HeaderAction): HeaderStep {
  if ('set_header' in action) {
    const { name, value } = checkHeader(rule, action.set_header);
    return (headers) => setHeader(headers, name, value);
  }
  if ('append_header' in action) {
    const { name, value } = checkHeader(rule, action.append_header);
    return (headers) => void headers.push(name, value);
  }
  const lower = checkHeader(rule, { name: action.remove_header, value: '' }).name.toLowerCase();
  return (headers) => removeHeader(headers, lower);
}

function compileRequestAction(rule: string, action: RequestAction): RequestStep {
  if ('rewrite_path' in action) {
    const { from, to } = action.rewrite_path;
    if (!from.startsWith('/') || !to.startsWith('/') || /[\s?#]/.test(from + to))
      throw httpErrors.invalidRule(
        rule,
        'rewrite_path from and to must be paths starting with "/"',
      );
    const fromPath = normalizePrefix(from);
    const toPath = normalizePrefix(to);
    // Rewrites work on the normalized path, so `/%61pp/x` is rewritten like `/app/x`; the
    // result goes to the node %-encoded (like nginx's proxy_pass with a URI part).
    return (req, state) => {
      const current = state.normalized ?? pathForMatching(req.path);
      if (!pathHasPrefix(current, fromPath)) return undefined;
      state.normalized = rewritePrefix(current, fromPath, toPath);
      state.path = encodePath(state.normalized) + queryOf(req.path);
      return undefined;
    };
  }
  if ('redirect' in action) {
    const { status, location } = action.redirect;
    if (!REDIRECT_STATUSES.has(status))
      throw httpErrors.invalidRule(
        rule,
        `redirect status ${status} is not 301, 302, 303, 307 or 308`,
      );
    checkValue(rule, location);
    return () => ({
      rule,
      status,
      headers: ['Location', location],
      body: `Redirecting to ${location}\n`,
    });
  }
  if ('deny' in action) {
    const { status, body } = action.deny;
    if (!Number.isInteger(status) || status < 200 || status > 599)
      throw httpErrors.invalidRule(rule, `deny status ${status} is not between 200 and 599`);
    // An absent or empty body (the configuration's default) gets a sentence naming the rule.
    const text = body ? body : `Denied by rule "${rule}".\n`;
    return () => ({ rule, status, headers: [], body: text });
  }
  const step = compileHeaderAction(rule, action);
  return (req) => void step(req.headers);
}

/** Replaces `from` at the start of the path (on a segment boundary) with `to`, keeping the rest. */
export function rewritePrefix(path: string, from: string, to: string): string {
  if (!pathHasPrefix(path, from)) return path;
  let rest = path.slice(from.length);
  if (to.endsWith('/') && rest.startsWith('/')) rest = rest.slice(1);
  const out = to + rest;
  return out.startsWith('/') ? out : `/${out}`;
}

function checkHeader(
  rule: string,
  header: { name: string; value: string },
): { name: string; value: string } {
  if (!TOKEN.test(header.name))
    throw httpErrors.invalidRule(rule, `"${header.name}" is not a valid header name`);
  if (FORBIDDEN_NAMES.has(header.name.toLowerCase()))
    throw httpErrors.invalidRule(rule, `header "${header.name}" is managed by the proxy`);
  checkValue(rule, header.value);
  return header;
}

function checkValue(rule: string, value: string): void {
  // Values go on the wire as latin1: refuse control characters and anything latin1 cannot carry.
  if (/[^\t\x20-\x7e\x80-\xff]/.test(value))
    throw httpErrors.invalidRule(rule, 'a value contains control characters or non-Latin-1 text');
}
