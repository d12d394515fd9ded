import { httpErrors } from './errors.js';
import { removeHeader, setHeader } from './header-list.js';
import { pathHasPrefix } from './host-pattern.js';
import { encodePath, normalizePrefix, pathForMatching, queryOf } from './normalized-path.js';
import { compileCondition, type Condition } from './rule-conditions.js';
import type { HeaderAction, HeaderValue, HttpRule, RequestAction } from './rule-types.js';
import { compileValue, ValueUse, type CompiledValue } from './rule-values.js';

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
  /** The Host field as sent (with port), for `{port}`. */
  readonly rawHost?: string | undefined;
  /** The virtual server's scheme, for `{scheme}` (default http). */
  readonly scheme?: 'http' | 'https' | undefined;
  /** The client's address, for `client_ip` conditions and `{client_ip}`. */
  readonly clientIp?: string | undefined;
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
    when: compileCondition(rule.name, rule.when),
    request: (rule.request ?? []).map((a) => compileRequestAction(rule.name, a)),
    response: (rule.response ?? []).map((a) => compileHeaderAction(rule.name, a)),
  };
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
    return renderLocation(rule, status, compileValue(rule, location, ValueUse.Location));
  }
  if ('deny' in action) {
    const { status, body } = action.deny;
    if (!Number.isInteger(status) || status < 200 || status > 599)
      throw httpErrors.invalidRule(rule, `deny status ${status} is not between 200 and 599`);
    // An absent or empty body (the configuration's default) gets a sentence naming the rule.
    const text = body ? body : `Denied by rule "${rule}".\n`;
    return () => ({ rule, status, headers: [], body: text });
  }
  if ('set_header' in action || 'append_header' in action)
    return compileTemplatedHeader(rule, action);
  const step = compileHeaderAction(rule, action);
  return (req) => void step(req.headers);
}

/** A request `set_header` / `append_header`, whose value may use `{variable}`s. */
function compileTemplatedHeader(
  rule: string,
  action: { readonly set_header: HeaderValue } | { readonly append_header: HeaderValue },
): RequestStep {
  const set = 'set_header' in action;
  const header = set ? action.set_header : action.append_header;
  const { name } = checkHeader(rule, { name: header.name, value: '' });
  const value = compileValue(rule, header.value, ValueUse.Header);
  const fixed = value.fixed;
  if (fixed !== undefined) {
    const step = compileHeaderAction(
      rule,
      set ? { set_header: { name, value: fixed } } : { append_header: { name, value: fixed } },
    );
    return (req) => void step(req.headers);
  }
  return (req) => {
    const rendered = value.render(req);
    if (!rendered.ok) return badRequest(rule, rendered.problem);
    if (set) setHeader(req.headers, name, rendered.value);
    else req.headers.push(name, rendered.value);
    return undefined;
  };
}

/** The 400 a rule answers when a request's own text cannot go into a value safely. */
function badRequest(rule: string, problem: string): RuleReply {
  return { rule, status: 400, headers: [], body: `Bad request: ${problem}.\n` };
}

function renderLocation(rule: string, status: number, location: CompiledValue): RequestStep {
  const fixed = location.fixed;
  if (fixed !== undefined) {
    const reply: RuleReply = {
      rule,
      status,
      headers: ['Location', fixed],
      body: `Redirecting to ${fixed}\n`,
    };
    return () => ({ ...reply, headers: [...reply.headers] });
  }
  return (req) => {
    const rendered = location.render(req);
    if (!rendered.ok) return badRequest(rule, rendered.problem);
    const to = rendered.value;
    return { rule, status, headers: ['Location', to], body: `Redirecting to ${to}\n` };
  };
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
