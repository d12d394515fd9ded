import type { CollectionName, Configuration } from './document.js';
import { ConfigErrors } from './errors.js';
import type { DeclaredNames } from './document-parts.js';
import type { Finding } from './finding.js';
import { listenClashes } from './listen-clashes.js';
import { sourceOf } from './object-source.js';
import type { ConfigProblem, PathSegment } from './problems.js';
import { formatPath } from './problems.js';

/** One cross-reference rule; new object kinds add a rule here. */
type Rule = (cfg: Configuration, options: ReferenceOptions) => Finding[];

/** A name one object uses to refer to another, with the field that holds it. */
type Reference = readonly [field: readonly PathSegment[], name: string];

const rules: readonly Rule[] = [
  references('virtual_servers', 'pools', (vs) => [
    [['pool'], vs.pool],
    ...listOf(vs.routes).map((r, i): Reference => [['routes', i, 'pool'], r.pool]),
  ]),
  references('virtual_servers', 'rules', (vs) =>
    listOf(vs.rules).map((name, i): Reference => [['rules', i], name]),
  ),
  references('virtual_servers', 'certificates', (vs) =>
    (vs.tls?.certificates ?? []).map((name, i): Reference => [['tls', 'certificates', i], name]),
  ),
  references('pools', 'monitors', (pool) =>
    listOf(pool.monitors).map((name, i): Reference => [['monitors', i], name]),
  ),
  references(
    'pools',
    'connector_groups',
    (pool) => (pool.via === undefined ? [] : [[['via'], pool.via]]),
    (name) => `create it with \`postern groups create ${name}\`, add it under connector_groups, or`,
  ),
  references(
    'applications',
    'connector_groups',
    (app) =>
      listOf(app.connector_groups).map((name, i): Reference => [['connector_groups', i], name]),
    (name) => `create it with \`postern groups create ${name}\`, add it under connector_groups, or`,
  ),
  references('access_policies', 'applications', (rule) =>
    listOf(rule.conditions.applications).map((name, i): Reference => [
      ['conditions', 'applications', i],
      name,
    ]),
  ),
  references('access_policies', 'virtual_servers', (rule) =>
    listOf(rule.conditions.virtual_servers).map((name, i): Reference => [
      ['conditions', 'virtual_servers', i],
      name,
    ]),
  ),
  references('virtual_servers', 'identity_providers', (vs) =>
    vs.access?.identity_provider === undefined
      ? []
      : [[['access', 'identity_provider'], vs.access.identity_provider]],
  ),
  (cfg, options) => clashFindings(collection(cfg, 'virtual_servers'), options.origins),
];

/** File name used in problems about objects that did not come from a document. */
export const UNKNOWN_SOURCE = '<configuration>';

/**
 * Checks references between the objects of a merged configuration (virtual server → pools,
 * rules and certificates; pool → monitors and connector group; application → connector
 * groups; access policy → applications and virtual servers) and listen-address clashes
 * between enabled virtual servers; throws POSTERN_ERR_CONFIG_REFERENCE listing every problem,
 * located in the file that defined the object when it came from a document. Returns the
 * configuration unchanged when it is sound.
 */
export function validateConfiguration(
  cfg: Configuration,
  options: ReferenceOptions = {},
): Configuration {
  const problems = referenceProblems(cfg, options);
  if (problems.length > 0) throw ConfigErrors.references(problems);
  return cfg;
}

/** Options of referenceProblems. */
export interface ReferenceOptions {
  /**
   * Names that exist although `cfg` lacks their objects (declared by objects whose body has
   * problems of its own); references to them are not reported. Default: none.
   */
  readonly declared?: DeclaredNames;
  /**
   * Names no document defines may be defined elsewhere (created through the admin API), where
   * the configuration is applied: references to them are not reported. Default false.
   */
  readonly external?: boolean;
  /** Where objects without a source document come from; default: `<configuration>`. */
  readonly origins?: ObjectOrigins;
}

/** What a check knows of objects created through the admin API, to name them in problems. */
export interface ObjectOrigins {
  /** The admin API path of an object created through the API, undefined for others. */
  apiPath(collection: CollectionName, name: string): string | undefined;
  /**
   * Who defined a name in the configuration in force: a document (`file`) or the API (`api`,
   * its API path); undefined when the name is new or unknown.
   */
  former(collection: CollectionName, name: string): FormerOwner | undefined;
}

/** Where a name that is gone was defined before. */
export type FormerOwner = { readonly file: string } | { readonly api: string };

/** Every cross-reference problem of a configuration, without throwing. */
export function referenceProblems(
  cfg: Configuration,
  options: ReferenceOptions = {},
): ConfigProblem[] {
  return rules
    .flatMap((rule) => rule(cfg, options))
    .map((finding) => findingProblem(finding, options.origins));
}

/**
 * Locates a finding in the document that defined its object, at the admin API path of an
 * object created through the API (given `origins`), or else by its merged path.
 */
export function findingProblem(finding: Finding, origins?: ObjectOrigins): ConfigProblem {
  const source = sourceOf(finding.object);
  const api = source === undefined ? apiPathOf(finding, origins) : undefined;
  if (api !== undefined) {
    const path = formatPath(finding.field);
    return { file: api, line: 0, column: 0, path, message: finding.message };
  }
  if (source === undefined) {
    const path = formatPath([...finding.path, ...finding.field]);
    return { file: UNKNOWN_SOURCE, line: 0, column: 0, path, message: finding.message };
  }
  const at = source.locate(finding.field);
  const path = formatPath([...source.path, ...finding.field]);
  return { file: source.file, line: at.line, column: at.column, path, message: finding.message };
}

/**
 * A collection of the configuration, empty when absent: configurations assembled outside a
 * document (from the store, by older callers) may lack the newer collections.
 */
function collection<C extends CollectionName>(cfg: Configuration, name: C): Configuration[C] {
  return cfg[name] ?? [];
}

/**
 * A list field, empty when absent: objects stored by an older release lack the newer fields
 * until they are saved again.
 */
function listOf<T>(list: readonly T[] | undefined): readonly T[] {
  return list ?? [];
}

const singular: Record<CollectionName, string> = {
  connector_groups: 'connector group',
  monitors: 'monitor',
  certificates: 'certificate',
  rules: 'rule',
  pools: 'pool',
  virtual_servers: 'virtual server',
  applications: 'application',
  access_policies: 'access policy',
  log_receivers: 'log receiver',
  identity_providers: 'identity provider',
};

function references<F extends CollectionName>(
  from: F,
  to: CollectionName,
  names: (object: Configuration[F][number]) => readonly Reference[],
  hint: (name: string) => string = () => `define it under ${to} or`,
): Rule {
  return (cfg, { declared, external, origins }) => {
    if (external === true) return [];
    const known = new Set(collection(cfg, to).map((o) => o.name));
    for (const name of declared?.get(to) ?? []) known.add(name);
    return collection(cfg, from).flatMap((object: Configuration[F][number], i) =>
      names(object)
        .filter(([, name]) => !known.has(name))
        .map(([field, name]) => ({
          object,
          path: [from, i],
          field,
          message: missingMessage({ from, to, object, name, hint: hint(name) }, origins),
        })),
    );
  };
}

/**
 * Why a reference fails, naming an object created through the API as such and the document
 * that used to define the missing name.
 */
function missingMessage(
  m: { from: CollectionName; to: CollectionName; object: object; name: string; hint: string },
  origins: ObjectOrigins | undefined,
): string {
  const former = origins?.former(m.to, m.name);
  const target = `${singular[m.to]} "${m.name}"`;
  const owner = (m.object as { name: string }).name;
  const api = sourceOf(m.object) === undefined ? origins?.apiPath(m.from, owner) : undefined;
  if (api === undefined) {
    if (former === undefined) return `${target} does not exist; ${m.hint} correct the name`;
    if ('api' in former) {
      return (
        `${target} (created through the API, ${former.api}) would no longer exist; keep it, ` +
        `or first change this document`
      );
    }
    return `${target} does not exist: ${former.file} no longer defines it; put it back or correct the name`;
  }
  const user = `${singular[m.from]} "${owner}" (created through the API)`;
  if (former !== undefined && 'api' in former) {
    // An API object that is being deleted (or renamed) while another API object uses it.
    return (
      `${user} uses ${target} (created through the API, ${former.api}), which would no longer ` +
      `exist; first change or delete the ${singular[m.from]} (PUT or DELETE ${api})`
    );
  }
  if (former === undefined) {
    return `${user} uses ${target}, which does not exist; ${m.hint} correct the name`;
  }
  return (
    `${user} uses ${target}, which ${former.file} no longer defines: put it back in a document, ` +
    `or first change or delete the ${singular[m.from]} (PUT or DELETE ${api})`
  );
}

/**
 * Listen clashes; one between a document's virtual server and one created through the API is
 * located in the document and names the API object, whichever of the two came later.
 */
function clashFindings(
  servers: Configuration['virtual_servers'],
  origins: ObjectOrigins | undefined,
): Finding[] {
  return listenClashes(servers).map((finding) => {
    const later = finding.object as Configuration['virtual_servers'][number];
    const earlier = origins && servers.find((s) => s !== later && clashing(s, later));
    if (origins === undefined || earlier === undefined) return finding;
    const [document, api] = sourceOf(later) === undefined ? [earlier, later] : [later, earlier];
    const apiPath = origins.apiPath('virtual_servers', api.name);
    if (sourceOf(document) === undefined || apiPath === undefined) return finding;
    return {
      object: document,
      path: ['virtual_servers', servers.indexOf(document)],
      field: ['listen'],
      message:
        `listen address ${document.listen} of virtual server "${document.name}" clashes with ` +
        `virtual server "${api.name}" (created through the API, ${apiPath}, listen ` +
        `${api.listen}); give each enabled virtual server its own address or port, or ` +
        `change or delete the API one first`,
    };
  });
}

/** Whether two virtual servers' listen addresses clash (as `listenClashes` decides). */
function clashing(
  a: Configuration['virtual_servers'][number],
  b: Configuration['virtual_servers'][number],
): boolean {
  return listenClashes([a, b]).length > 0;
}

/** The API path of a finding's object when it was created through the API. */
function apiPathOf(finding: Finding, origins: ObjectOrigins | undefined): string | undefined {
  const [collection] = finding.path;
  const name = (finding.object as { name?: unknown }).name;
  if (origins === undefined || typeof collection !== 'string' || typeof name !== 'string') {
    return undefined;
  }
  return origins.apiPath(collection as CollectionName, name);
}
