import type { Configuration } from './document.js';
import { ConfigErrors } from './errors.js';
import type { HostPort } from './host-port.js';
import { formatHostPort, hostPortProblem, parseHostPort } from './host-port.js';
import { sourceOf } from './object-source.js';
import type { ConfigProblem, PathSegment } from './problems.js';
import { formatPath } from './problems.js';

/** A cross-reference problem on one field of one object. */
interface Finding {
  readonly object: object;
  /** The object's path in the merged configuration, used when it has no source document. */
  readonly path: readonly PathSegment[];
  readonly field: readonly PathSegment[];
  readonly message: string;
}

/** One cross-reference rule; new object kinds add a rule here. */
type Rule = (cfg: Configuration) => Finding[];

const rules: readonly Rule[] = [poolReferences, groupReferences, listenClashes];

/** File name used in problems about objects that did not come from a document. */
export const UNKNOWN_SOURCE = '<configuration>';

/**
 * Checks references between objects of a merged configuration (virtual server → pool,
 * pool → connector group) and listen-address clashes between enabled virtual servers; throws
 * POSTERN_ERR_CONFIG_REFERENCE listing every problem, located in the file that defined the
 * object when it came from a document. Returns the configuration unchanged when it is sound.
 */
export function validateConfiguration(cfg: Configuration): Configuration {
  const problems = rules.flatMap((rule) => rule(cfg)).map(toProblem);
  if (problems.length > 0) throw ConfigErrors.references(problems);
  return cfg;
}

function toProblem(finding: Finding): ConfigProblem {
  const source = sourceOf(finding.object);
  if (source === undefined) {
    const path = formatPath([...finding.path, ...finding.field]);
    return { file: UNKNOWN_SOURCE, line: 0, column: 0, path, message: finding.message };
  }
  const at = source.locate(finding.field);
  const path = formatPath([...source.path, ...finding.field]);
  return { file: source.file, line: at.line, column: at.column, path, message: finding.message };
}

function poolReferences(cfg: Configuration): Finding[] {
  const pools = new Set(cfg.pools.map((p) => p.name));
  return cfg.virtual_servers.flatMap((vs, i) =>
    pools.has(vs.pool)
      ? []
      : [
          {
            object: vs,
            path: ['virtual_servers', i],
            field: ['pool'],
            message: `pool "${vs.pool}" does not exist; define it under pools or correct the name`,
          },
        ],
  );
}

function groupReferences(cfg: Configuration): Finding[] {
  const groups = new Set(cfg.connector_groups.map((g) => g.name));
  return cfg.pools.flatMap((pool, i) =>
    pool.via === undefined || groups.has(pool.via)
      ? []
      : [
          {
            object: pool,
            path: ['pools', i],
            field: ['via'],
            message:
              `connector group "${pool.via}" does not exist; create it with ` +
              `\`postern groups create ${pool.via}\`, add it under connector_groups, ` +
              `or correct the name`,
          },
        ],
  );
}

function listenClashes(cfg: Configuration): Finding[] {
  const seen: { name: string; address: HostPort }[] = [];
  const findings: Finding[] = [];
  cfg.virtual_servers.forEach((vs, i) => {
    if (!vs.enabled || hostPortProblem(vs.listen) !== undefined) return;
    const address = parseHostPort(vs.listen);
    const other = seen.find((s) => clashes(s.address, address));
    if (other !== undefined) {
      findings.push({
        object: vs,
        path: ['virtual_servers', i],
        field: ['listen'],
        message:
          `listen address ${formatHostPort(address)} clashes with virtual server ` +
          `"${other.name}" (${formatHostPort(other.address)}); give each enabled virtual ` +
          `server its own address or port`,
      });
    }
    seen.push({ name: vs.name, address });
  });
  return findings;
}

/**
 * True when two listeners cannot both bind: same port and the same host, or one of them the
 * wildcard covering the other. Host names are compared as written (they are not resolved).
 */
function clashes(a: HostPort, b: HostPort): boolean {
  if (a.port !== b.port) return false;
  return a.host === b.host || covers(a, b) || covers(b, a);
}

function covers(wildcard: HostPort, other: HostPort): boolean {
  // Node binds "::" dual-stack, so it takes the port on every IPv4 and IPv6 address.
  if (wildcard.host === '::') return true;
  return wildcard.host === '0.0.0.0' && other.family !== 'ipv6';
}
