/** When a rule applies; every field is optional and all given ones must match. */
export interface RuleCondition {
  /** Exact host, `*.suffix` or `*`. */
  readonly host?: string | undefined;
  /** Path prefix on segment boundaries. */
  readonly path_prefix?: string | undefined;
  /** Request methods, upper case. */
  readonly methods?: readonly string[] | undefined;
  /** A request header (name in any case): one of `value`, `prefix` or `present`. */
  readonly header?: FieldMatch | undefined;
  /** A query parameter (decoded): one of `value` or `present`. */
  readonly query?: FieldMatch | undefined;
  /** A cookie: one of `value` or `present`. */
  readonly cookie?: FieldMatch | undefined;
  /** The client address is in one of these CIDR networks. */
  readonly client_ip?: readonly string[] | undefined;
}

/** A test on a named field; exactly one of `value`, `prefix` or `present` is given. */
export interface FieldMatch {
  readonly name: string;
  readonly value?: string | undefined;
  readonly prefix?: string | undefined;
  readonly present?: boolean | undefined;
}

/** A header name and value. */
export interface HeaderValue {
  readonly name: string;
  readonly value: string;
}

/** Header actions, allowed on requests and responses. */
export type HeaderAction =
  | { readonly set_header: HeaderValue }
  | { readonly append_header: HeaderValue }
  | { readonly remove_header: string };

/** Request actions, applied in order before the request goes upstream; redirect and deny end processing. */
export type RequestAction =
  | HeaderAction
  | { readonly rewrite_path: { readonly from: string; readonly to: string } }
  | { readonly redirect: { readonly status: number; readonly location: string } }
  | { readonly deny: { readonly status: number; readonly body?: string | undefined } };

/** A declarative rule, the same shape as in configuration documents. */
export interface HttpRule {
  readonly name: string;
  readonly when?: RuleCondition | undefined;
  readonly request?: readonly RequestAction[] | undefined;
  readonly response?: readonly HeaderAction[] | undefined;
}
