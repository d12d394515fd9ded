// Pure pieces of the workers suite: which worker counts to run, which HA server ids the
// workers of one edge carry, HAProxy's configuration with as many threads as Postern has
// workers, and the result rows with their two ratios (workers=N / workers=1, Postern / HAProxy).
import type { Result } from '../suite.js';

/** Worker counts measured on a machine with `cores` cores: 1 up to the cores, at least 1 and 2. */
export function workerCounts(cores: number, max = 4): number[] {
  const top = Math.max(2, Math.min(Math.floor(cores), max));
  return Array.from({ length: top }, (_, i) => i + 1);
}

/** The HA server ids the edge started with `--server-id base --workers count` registers. */
export function workerServerIds(base: string, count: number): string[] {
  if (count <= 1) return [base];
  return Array.from({ length: count }, (_, i) => `${base}-w${i + 1}`);
}

/** HAProxy with `threads` threads: a TCP relay to the iperf3 port and https in front of the HTTP backend. */
export function haproxyScalingConfig(o: {
  threads: number;
  tcpPort: number;
  tcpBackend: number;
  httpsPort: number;
  httpBackend: number;
  /** Certificate and key in one PEM file. */
  pem: string;
}): string {
  return [
    'global',
    `  nbthread ${o.threads}`,
    '  maxconn 4096',
    'defaults',
    '  timeout connect 10s',
    '  timeout client 60s',
    '  timeout server 60s',
    'frontend tcp_fe',
    '  mode tcp',
    `  bind 127.0.0.1:${o.tcpPort}`,
    '  default_backend tcp_be',
    'backend tcp_be',
    '  mode tcp',
    `  server s1 127.0.0.1:${o.tcpBackend}`,
    'frontend https_fe',
    '  mode http',
    '  option http-keep-alive',
    '  option forwardfor',
    `  bind 127.0.0.1:${o.httpsPort} ssl crt ${o.pem}`,
    '  default_backend https_be',
    'backend https_be',
    '  mode http',
    '  http-reuse always',
    `  server s1 127.0.0.1:${o.httpBackend}`,
    '',
  ].join('\n');
}

/** What is measured on each path: TCP throughput or HTTP keep-alive requests. */
export type ScalingPath = 'tcpDirect' | 'tcpTunnel' | 'httpsDirect' | 'httpsTunnel';

/** The paths in the order they are measured and shown. */
export const scalingPaths: readonly ScalingPath[] = [
  'tcpDirect',
  'tcpTunnel',
  'httpsDirect',
  'httpsTunnel',
];

/** Row labels of the Postern paths. */
export const scalingPathLabels: Record<ScalingPath, string> = {
  tcpDirect: 'Postern tcp, direct pool',
  tcpTunnel: 'Postern tcp, via pool (tunnel)',
  httpsDirect: 'Postern https, direct pool',
  httpsTunnel: 'Postern https, via pool (tunnel)',
};

/** The HAProxy frontend each path is compared with. */
const peerOf: Record<ScalingPath, 'tcp' | 'https'> = {
  tcpDirect: 'tcp',
  tcpTunnel: 'tcp',
  httpsDirect: 'https',
  httpsTunnel: 'https',
};

const metricOf = { tcp: 'TCP, 8 iperf3 streams', https: 'keep-alive GET req/s' } as const;
const unitOf = { tcp: 'Gbit/s', https: 'req/s' } as const;

/** One phase of the suite: the figures measured with `workers` edge workers (and HAProxy threads). */
export interface ScalingPhase {
  workers: number;
  /** Gbit/s for tcp paths, req/s for https paths. */
  postern: Record<ScalingPath, number>;
  haproxy: Record<'tcp' | 'https', number>;
}

/** Minimum workers=N / workers=1 ratio that counts as PASS for Postern (issue 7: it grows). */
export const scalingTarget = 1.2;

function posternLabel(path: ScalingPath, workers: number): string {
  return `${metricOf[peerOf[path]]} — ${scalingPathLabels[path]}, workers=${workers}`;
}

function haproxyLabel(kind: 'tcp' | 'https', threads: number): string {
  const mode = kind === 'tcp' ? 'mode tcp' : 'https, mode http';
  return `${metricOf[kind]} — HAProxy (${mode}), nbthread ${threads}`;
}

/**
 * The result rows: per phase, HAProxy's figure, then each Postern path against HAProxy with
 * the same number of threads; and for every phase after the first, each figure against the
 * same path with one worker (thread), the scaling ratio, and each https figure against the
 * one-thread HAProxy (issue 4's comparison).
 */
export function scalingRows(phases: readonly ScalingPhase[]): Result[] {
  const first = phases[0];
  if (first === undefined) return [];
  const rows: Result[] = [];
  for (const kind of ['tcp', 'https'] as const) {
    for (const phase of phases) {
      const peer = { case: haproxyLabel(kind, phase.workers), value: phase.haproxy[kind] };
      rows.push({ ...peer, unit: unitOf[kind] });
      if (phase !== first) {
        rows.push({
          ...peer,
          case: `${peer.case} (vs nbthread ${first.workers})`,
          unit: unitOf[kind],
          baseline: { case: haproxyLabel(kind, first.workers), value: first.haproxy[kind] },
        });
      }
      for (const path of scalingPaths.filter((p) => peerOf[p] === kind)) {
        const value = phase.postern[path];
        const label = posternLabel(path, phase.workers);
        rows.push({ case: label, value, unit: unitOf[kind], baseline: peer });
        if (phase === first) continue;
        rows.push({
          case: `${label} (vs workers=${first.workers})`,
          value,
          unit: unitOf[kind],
          baseline: { case: posternLabel(path, first.workers), value: first.postern[path] },
          target: scalingTarget,
        });
        // Issue 4 compares the https virtual server with a one-thread HAProxy.
        if (kind !== 'https') continue;
        rows.push({
          case: `${label} (vs HAProxy nbthread ${first.workers})`,
          value,
          unit: unitOf[kind],
          baseline: { case: haproxyLabel(kind, first.workers), value: first.haproxy[kind] },
        });
      }
    }
  }
  return rows;
}
