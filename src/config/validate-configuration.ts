import type { CollectionName, Configuration } from './document.js';
import { ConfigErrors } from './errors.js';
import type { DeclaredNames } from './document-parts.js';
import type { Finding } from './finding.js';
import { listenClashes } from './listen-clashes.js';
import { sourceOf } from './object-source.js';
import type { ConfigProblem, PathSegment } from './problems.js';
import { formatPath } from './problems.js';

/** One cross-reference rule; new object kinds add a rule here. */
type Rule = (cfg: Configuration, declared: DeclaredNames | undefined) => Finding[];

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
  (cfg) => listenClashes(collection(cfg, 'virtual_servers')),
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
export function validateConfiguration(cfg: Configuration): Configuration {
  const problems = referenceProblems(cfg);
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
}

/** Every cross-reference problem of a configuration, without throwing. */
export function referenceProblems(
  cfg: Configuration,
  options: ReferenceOptions = {},
): ConfigProblem[] {
  return rules.flatMap((rule) => rule(cfg, options.declared)).map(findingProblem);
}

/** Locates a finding in the document that defined its object, or by its merged path. */
export function findingProblem(finding: Finding): ConfigProblem {
  const source = sourceOf(finding.object);
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
  return (cfg, declared) => {
    const known = new Set(collection(cfg, to).map((o) => o.name));
    for (const name of declared?.get(to) ?? []) known.add(name);
    return collection(cfg, from).flatMap((object: Configuration[F][number], i) =>
      names(object)
        .filter(([, name]) => !known.has(name))
        .map(([field, name]) => ({
          object,
          path: [from, i],
          field,
          message: `${singular[to]} "${name}" does not exist; ${hint(name)} correct the name`,
        })),
    );
  };
}
