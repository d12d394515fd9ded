import { findingProblem, formatHostPort, parseHostPort } from '../../config/index.js';
import type { ConfigProblem, Configuration, VirtualServer } from '../../config/index.js';
import { isPosternError } from '../../core/index.js';
import type { PosternError } from '../../core/index.js';

/** The traffic layer's code for a virtual server that could not bind its address. */
const LISTEN_FAILED = 'POSTERN_ERR_LISTEN_FAILED';

/** Causes followed at most; a cycle or a deep wrapper chain stops here. */
const MAX_CAUSES = 8;

/** What Node's `listen` reports on failure (an ErrnoException with the address). */
interface ListenErrno {
  readonly code: string;
  readonly address: string;
  readonly port: number;
  readonly message: string;
}

/**
 * The problem a failed apply is reported as. When a virtual server of `config` could not bind
 * its address, it is located at that server's `listen` field in the document that defined
 * it, with the reason in plain words and the listen error's code; undefined otherwise (the
 * caller reports the error's message as it is).
 */
export function listenProblem(
  error: unknown,
  options: {
    readonly config: Configuration;
    readonly generation: number;
    /** The edge was starting: nothing runs yet, so the message says it did not start. */
    readonly starting?: boolean;
  },
): ConfigProblem | undefined {
  const causes = chain(error);
  const failed = causes.find((e): e is PosternError => isPosternError(e, LISTEN_FAILED));
  const errno = causes.find(isListenErrno);
  if (failed === undefined || errno === undefined) return undefined;
  const servers = options.config.virtual_servers as readonly VirtualServer[];
  const index = serverAt(servers, errno, failed.message);
  const vs = index === undefined ? undefined : servers[index];
  if (index === undefined || vs === undefined) return undefined;
  const problem = findingProblem({
    object: vs,
    path: ['virtual_servers', index],
    field: ['listen'],
    message:
      `virtual server "${vs.name}" cannot listen on ${vs.listen}: ${reason(errno)}; ` +
      `choose a free address or stop what holds it. ` +
      (options.starting === true
        ? 'The edge did not start'
        : `Generation ${options.generation} was not applied; the previous generation keeps running`),
  });
  return { ...problem, code: failed.code };
}

/** The error and its causes, outermost first. */
function chain(error: unknown): unknown[] {
  const out: unknown[] = [];
  for (let e = error; e !== undefined && out.length < MAX_CAUSES;) {
    out.push(e);
    e = e instanceof Error ? e.cause : undefined;
  }
  return out;
}

function isListenErrno(value: unknown): value is ListenErrno {
  if (!(value instanceof Error)) return false;
  const e = value as Error & Record<string, unknown>;
  return (
    e['syscall'] === 'listen' &&
    typeof e['code'] === 'string' &&
    typeof e['address'] === 'string' &&
    typeof e['port'] === 'number'
  );
}

/**
 * The enabled virtual server that failed: the one on that port, or when several share it (on
 * different hosts), the one on that host, or named in the error's message.
 */
function serverAt(
  servers: readonly VirtualServer[],
  errno: ListenErrno,
  message: string,
): number | undefined {
  const onPort = servers.flatMap((vs, i) => {
    if (!vs.enabled) return [];
    try {
      const at = parseHostPort(vs.listen);
      return at.port === errno.port ? [{ i, vs, at }] : [];
    } catch {
      return [];
    }
  });
  if (onPort.length === 1) return onPort[0]?.i;
  const host = canonicalHost(errno);
  const onHost = onPort.filter((c) => c.at.host.toLowerCase() === host.toLowerCase());
  if (onHost.length === 1) return onHost[0]?.i;
  const named = onPort.filter((c) => message.includes(`"${c.vs.name}"`));
  return named.length === 1 ? named[0]?.i : undefined;
}

/** The listen error's host as `parseHostPort` writes hosts (IPv6 in canonical form). */
function canonicalHost(errno: ListenErrno): string {
  try {
    return parseHostPort(formatHostPort({ host: errno.address, port: errno.port })).host;
  } catch {
    return errno.address;
  }
}

/** Why the address could not be bound, in words an operator acts on. */
function reason(errno: ListenErrno): string {
  switch (errno.code) {
    case 'EADDRINUSE':
      return 'the address is already in use (EADDRINUSE)';
    case 'EACCES':
      return 'permission denied (EACCES; ports below 1024 need root or CAP_NET_BIND_SERVICE)';
    case 'EADDRNOTAVAIL':
      return 'the host is not an address of this machine (EADDRNOTAVAIL)';
    default:
      return errno.message;
  }
}
