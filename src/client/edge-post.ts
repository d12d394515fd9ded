import http from 'node:http';
import https from 'node:https';

/** Largest answer body read from the edge; more is a broken or hostile answer. */
const MAX_BODY = 64 * 1024;

/** A JSON answer from the edge: the status, and the parsed body (undefined when it is not JSON). */
export interface EdgeAnswer {
  readonly status: number;
  readonly body: unknown;
}

/** What {@link postToEdge} sends. */
export interface EdgePost {
  /** Extra request fields (e.g. authorization, content-type). */
  readonly headers?: Record<string, string> | undefined;
  /** The body; none when undefined. */
  readonly body?: string | undefined;
  /** The edge's CA in PEM, for https; the system CAs when undefined. */
  readonly caPem?: string | undefined;
  /** Bound on the whole exchange; default 20 s. */
  readonly timeoutMs?: number | undefined;
}

/** POSTs to the edge and reads its JSON answer, at most 64 KiB, within a time bound. */
export function postToEdge(url: URL, post: EdgePost = {}): Promise<EdgeAnswer> {
  const timeoutMs = post.timeoutMs ?? 20_000;
  const body = post.body ?? '';
  return new Promise((resolve, reject) => {
    const secure = url.protocol === 'https:';
    const request = (secure ? https.request : http.request)(url, {
      method: 'POST',
      headers: {
        accept: 'application/json',
        'content-length': String(Buffer.byteLength(body)),
        ...post.headers,
      },
      ...(secure && post.caPem !== undefined ? { ca: post.caPem } : {}),
    });
    request.setTimeout(timeoutMs, () =>
      request.destroy(new Error(`the edge did not answer in ${timeoutMs} ms`)),
    );
    request.on('error', reject);
    request.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        text += chunk;
        if (text.length > MAX_BODY) request.destroy(new Error('the answer is too large'));
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: parsed(text) }));
    });
    request.end(body);
  });
}

function parsed(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
