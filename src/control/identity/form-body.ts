import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
import { htmlPage, type AuthResponse } from './auth-html.js';

/**
 * Reads an IncomingMessage's body up to `limit` bytes; undefined when it is longer. The request
 * is not destroyed then, so the refusal can still be sent: Node drops the unread rest.
 */
export function readMessageBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const done = (): void => {
      req.off('data', data).off('end', end).off('error', failed).off('close', gone);
      req.pause();
    };
    const data = (chunk: Buffer): void => {
      size += chunk.length;
      if (size <= limit) chunks.push(chunk);
      else {
        done();
        resolve(undefined);
      }
    };
    const end = (): void => {
      done();
      resolve(Buffer.concat(chunks));
    };
    const failed = (err: Error): void => {
      done();
      reject(err);
    };
    const gone = (): void => failed(new Error('the client went away before sending the body'));
    req.on('data', data).on('end', end).on('error', failed).on('close', gone);
  });
}

/** What {@link readForm} needs of a request. */
export interface FormRequest {
  readonly headers: IncomingHttpHeaders;
  readonly readBody?: ((limit: number) => Promise<Buffer | undefined>) | undefined;
}

/**
 * The fields of an `application/x-www-form-urlencoded` POST body of at most `limit` bytes, or
 * the 4xx page that refuses it: 415 for another content type, 413 when too long. Form fields
 * travel in the body so that secrets in them stay out of URLs (access logs, history, Referer).
 */
export async function readForm(
  req: FormRequest,
  limit: number,
): Promise<URLSearchParams | AuthResponse> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
  if (type !== 'application/x-www-form-urlencoded') {
    return refused(
      htmlPage(
        415,
        'Unsupported form',
        [
          'Send this form as <code>application/x-www-form-urlencoded</code> in the POST body, ' +
            'as the Postern page does.',
        ],
        { 'accept-post': 'application/x-www-form-urlencoded' },
      ),
    );
  }
  // A transport that cannot hand over bodies yields no fields: the form is then refused.
  const body = req.readBody === undefined ? Buffer.alloc(0) : await req.readBody(limit);
  if (body === undefined) {
    return refused(
      htmlPage(413, 'Form too large', [
        `The form is longer than ${limit} bytes; send it from the Postern page itself.`,
      ]),
    );
  }
  return new URLSearchParams(body.toString('utf8'));
}

/** A form the page would never send (wrong encoding, too long): `form_refused`, no failed login. */
function refused(page: AuthResponse): AuthResponse {
  return { ...page, reason: 'form_refused' };
}
