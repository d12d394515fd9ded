// Reads the edge's Prometheus exposition (/metrics on the admin listener) for live figures.

/** The figures the overview shows. */
export interface EdgeFigures {
  readonly bytesTotal: number;
  readonly openStreams: number;
  readonly at: number;
}

/** Sums every sample of `name` (all label sets) in a Prometheus text exposition. */
export function sumMetric(text: string, name: string): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== '{' && rest[0] !== ' ') continue;
    const value = Number(line.slice(line.lastIndexOf(' ') + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}

/** Fetches /metrics and picks out the session bytes and open streams. */
export async function fetchFigures(): Promise<EdgeFigures> {
  const res = await fetch('/metrics', { headers: { accept: 'text/plain' } });
  if (!res.ok) throw new Error(`/metrics answered HTTP ${res.status}`);
  const text = await res.text();
  return {
    bytesTotal: sumMetric(text, 'postern_edge_session_bytes_total'),
    openStreams: sumMetric(text, 'postern_edge_open_streams'),
    at: Date.now(),
  };
}
