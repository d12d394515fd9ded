/**
 * The access proxy's test lab, in-process: a real edge with an access listener on loopback, a
 * real connector of the echo application's group and a TCP echo app, with tokens issued by the
 * edge's own signing key and `postern tcp`'s tunnel client to reach the app through the edge.
 */
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type tls from 'node:tls';
import { openTcpTunnel } from '../../../src/client/index.js';
import { CLI_AUDIENCE, type UserIdentity } from '../../../src/control/index.js';
import type { AccessListenOptions, EdgeOptions } from '../../../src/edge/index.js';
import {
  startEchoServer,
  startTestConnector,
  startTestEdge,
  stopAllConnectors,
  tempDir,
  type TestEdge,
} from '../../harness/harness.js';

/** The TCP echo app the lab's application covers. */
export type EchoServer = Awaited<ReturnType<typeof startEchoServer>>;

/** One record of the edge's user activity log (GET /activity), as the access tests read it. */
export interface ActivityRecord {
  readonly kind: string;
  readonly user?: string;
  readonly action: string;
  readonly rule?: string;
  readonly destination: string;
  readonly application?: string;
  readonly status?: number;
  readonly connector?: string;
  readonly bytes_from_client?: number;
  readonly bytes_to_client?: number;
  readonly close_reason?: string;
  readonly reason?: string;
}

/** Options of startAccessLab; only `group` is required. */
export interface AccessLabOptions {
  /** The connector group the lab's connector joins and the echo application is reached through. */
  readonly group: string;
  /**
   * The lines of the access document the edge starts with, given the echo app's port; default
   * `echoAccessDocument`. `null` starts the edge without a document, for a test that creates its
   * applications and policies through the admin API.
   */
  readonly document?: ((echoPort: number) => readonly string[] | Promise<readonly string[]>) | null;
  /** Access listener options beyond the loopback address on port 0. */
  readonly access?: Partial<AccessListenOptions>;
  /** Further edge options (a logger, a drain timeout). */
  readonly edge?: Omit<Partial<EdgeOptions>, 'access' | 'configDir'>;
}

/** The running lab: its parts, and what a test needs to reach the app through the edge. */
export interface AccessLab {
  readonly edge: TestEdge;
  readonly echo: EchoServer;
  /** The edge CA's certificate (PEM), which the access listener's certificate chains to. */
  readonly ca: string;
  /** The access listener's URL and port. */
  readonly accessUrl: string;
  readonly port: number;
  /** The echo app's address, the destination of a `postern tcp` session. */
  readonly target: string;
  /** The id of the lab's connector. */
  readonly connectorId: string;
  /** A CLI token for `who`, signed by the edge, valid for `ttlMs` (default 10 minutes). */
  issueToken(who: UserIdentity, ttlMs?: number): Promise<{ token: string; expiresAt: number }>;
  /** Opens a `postern tcp` session with `token` to the echo app through the access listener. */
  openTunnel(token: string): Promise<tls.TLSSocket>;
  /** The edge's user activity log, newest first (up to 1000 records). */
  activity(): Promise<ActivityRecord[]>;
  /** Closes the edge (once: a later call, and `close`, wait for the same close). */
  closeEdge(): Promise<void>;
  /** Stops the connectors, the edge and the echo app, and removes the temporary directories. */
  close(): Promise<void>;
}

/**
 * The access document most access tests start with: the echo application reached through
 * `group`, and one policy allowing the eng group in with `postern tcp`.
 */
export function echoAccessDocument(group: string, echoPort: number): string[] {
  return [
    'version: 1',
    `connector_groups: [{name: ${group}}]`,
    'applications:',
    '  - name: echo',
    '    cidrs: [127.0.0.1/32]',
    `    ports: ["${echoPort}"]`,
    `    connector_groups: [${group}]`,
    'access_policies:',
    '  - name: eng-tcp',
    '    action: allow',
    '    conditions: {groups: [eng], client_types: [tcp_client]}',
  ];
}

/** Starts the echo app, the edge with its access listener and document, and one connector. */
export async function startAccessLab(options: AccessLabOptions): Promise<AccessLab> {
  const cleanups: (() => Promise<void>)[] = [];
  const cleanUp = async (): Promise<void> => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  };
  try {
    const echo = await startEchoServer();
    cleanups.push(() => echo.close());
    const document =
      options.document === undefined
        ? (port: number) => echoAccessDocument(options.group, port)
        : options.document;
    let configDir: string | undefined;
    if (document !== null) {
      const dir = await tempDir('postern-access-lab-config-');
      configDir = dir;
      cleanups.push(() => rm(dir, { recursive: true, force: true }));
      await writeFile(join(dir, 'access.yaml'), (await document(echo.port)).join('\n'));
    }
    const edge = await startTestEdge({
      ...options.edge,
      ...(configDir === undefined ? {} : { configDir }),
      access: { listen: '127.0.0.1:0', ...options.access },
    });
    let edgeClosed: Promise<void> | undefined;
    const closeEdge = (): Promise<void> => (edgeClosed ??= edge.close());
    cleanups.push(async () => {
      await stopAllConnectors();
      await closeEdge();
      if (options.edge?.dataDir === undefined) await rm(edge.dir, { recursive: true, force: true });
    });
    const accessUrl = edge.accessUrl;
    if (accessUrl === undefined) throw new Error('the edge started without its access listener');
    const target = `127.0.0.1:${echo.port}`;
    const ca = await readFile(join(edge.dir, 'ca.crt'), 'utf8');
    const key = await edge.createKey(options.group);
    const connector = await startTestConnector({ provisionKey: key.value });
    return {
      edge,
      echo,
      ca,
      accessUrl,
      port: Number(new URL(accessUrl).port),
      target,
      connectorId: connector.identity?.connectorId ?? '',
      issueToken: (who, ttlMs = 600_000) =>
        edge.tokenAuthority.issue(who, { audience: CLI_AUDIENCE, ttlMs }),
      openTunnel: (token) => openTcpTunnel(accessUrl, target, { token, caPem: ca }),
      activity: async () =>
        (await edge.api<{ items: ActivityRecord[] }>('GET', '/activity?limit=1000')).body.items,
      closeEdge,
      close: cleanUp,
    };
  } catch (err) {
    await cleanUp();
    throw err;
  }
}
