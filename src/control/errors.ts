import { ConfigProblemsError, formatProblems, type ConfigProblem } from '../config/index.js';
import { PosternError } from '../core/index.js';

/** Errors of the control plane: enrollment, admin API, runtime configuration. */
export const controlErrors = {
  connectorUnknown: (id: string) =>
    new PosternError(
      'POSTERN_ERR_CONNECTOR_UNKNOWN',
      `Connector "${id}" is not enrolled here (deleted, or enrolled with another edge set). Remove its state directory and enroll it again with a provisioning key.`,
    ),
  renewalRefused: (id: string, why: string) =>
    new PosternError(
      'POSTERN_ERR_RENEWAL_REFUSED',
      `The edge refused to renew the expired certificate of connector ${id}: ${why}. Start the connector with --provision-key to enroll it again (as a new connector; delete the old one with \`postern connectors delete ${id}\`).`,
    ),
  connectorDeleted: (id: string) =>
    new PosternError(
      'POSTERN_ERR_CONNECTOR_REVOKED',
      `Connector ${id} was deleted by an administrator; the edge no longer accepts its certificate. To bring this host back, remove its state directory and enroll again with a provisioning key.`,
    ),
  keyRevokedForGood: (id: string, group: string) =>
    new PosternError(
      'POSTERN_ERR_KEY_REVOKED',
      `Provisioning key ${id} is revoked for good and cannot be enabled again. Create a new key with \`postern keys create --group ${group}\`.`,
    ),
  unauthorized: () =>
    new PosternError(
      'POSTERN_ERR_UNAUTHORIZED',
      'The admin API needs a valid bearer token. Pass --token or set POSTERN_ADMIN_TOKEN (the edge writes it to <data-dir>/admin-token on first start).',
    ),
  badRequest: (why: string) =>
    new PosternError('POSTERN_ERR_BAD_REQUEST', `The request is invalid: ${why}.`),
  tokenRejected: (why: string) =>
    new PosternError(
      'POSTERN_ERR_UNAUTHORIZED',
      `The admin token ${why}. Ask an administrator for a new one (\`postern tokens create <name> --role <role>\`).`,
    ),
  forbidden: (role: string, needed: string, what: string) =>
    new PosternError(
      'POSTERN_ERR_FORBIDDEN',
      `A token with role "${role}" may not ${what}; it needs role "${needed}". Use a token with that role (\`postern tokens create ${needed}-token --role ${needed}\`, run by an admin).`,
    ),
  invalidPageToken: (list: string) =>
    new PosternError(
      'POSTERN_ERR_INVALID_PAGE_TOKEN',
      `The page_token is not one this edge gave out for ${list}. Pass the next_page_token of the previous page unchanged, or leave page_token out to start again.`,
    ),
  preconditionFailed: (url: string, current: string | undefined) =>
    new PosternError(
      'POSTERN_ERR_PRECONDITION_FAILED',
      current === undefined
        ? `${url} does not exist, so If-Match cannot match. GET the collection to see what exists.`
        : `${url} changed since it was read (its ETag is now ${current}). GET it again, re-apply the change and retry with the new ETag in If-Match.`,
    ),
  preconditionRequired: (method: string, url: string) =>
    new PosternError(
      'POSTERN_ERR_PRECONDITION_REQUIRED',
      `${method} ${url} needs an If-Match header on this edge (--admin-require-if-match). GET the object and send its ETag in If-Match.`,
    ),
  routeNotFound: (method: string, url: string) =>
    new PosternError(
      'POSTERN_ERR_NOT_FOUND',
      `There is no admin API route ${method} ${url}. See GET /api/v1/openapi.json for the routes.`,
    ),
  unsupportedMediaType: (type: string) =>
    new PosternError(
      'POSTERN_ERR_UNSUPPORTED_MEDIA_TYPE',
      `The admin API does not read request bodies of type "${type}". Send JSON with Content-Type: application/json (or application/merge-patch+json for PATCH).`,
    ),
  bodyTooLarge: () =>
    new PosternError(
      'POSTERN_ERR_BODY_TOO_LARGE',
      'The request body is larger than the admin API accepts (1 MiB). Send a smaller object.',
    ),
  ownedByDocument: (kind: string, name: string, owner: string) =>
    new PosternError(
      'POSTERN_ERR_READ_ONLY',
      `${kind} "${name}" comes from the configuration document ${owner.replace(/^document:/, '')} and is read-only through the API. Change the document instead.`,
    ),
  apiUrlTooLong: () =>
    new PosternError(
      'POSTERN_ERR_API_URL_TOO_LONG',
      'A segment of the request path is longer than the admin API accepts (100 characters); no object name is that long. Check the URL.',
    ),
  apiHeadersTooLarge: () =>
    new PosternError(
      'POSTERN_ERR_API_HEADERS_TOO_LARGE',
      'The request line and headers are larger than the admin API accepts (16 KiB). Shorten the URL (put long values in a JSON body) or drop large headers.',
    ),
  apiRequestTimeout: () =>
    new PosternError(
      'POSTERN_ERR_API_REQUEST_TIMEOUT',
      'The request was not received in full in time, so the admin API closed the connection. Check the client and the network, then send it again.',
    ),
  /**
   * A deletion refused because objects of the configuration in force still use the object
   * (`kind` as people say it: "connector group", "pool"); each user is one numbered problem.
   */
  objectInUse: (kind: string, name: string, problems: readonly ConfigProblem[]) =>
    new ConfigProblemsError(
      'POSTERN_ERR_CONFLICT',
      `${kind.charAt(0).toUpperCase()}${kind.slice(1)} "${name}" is still used by ${problems.length === 1 ? 'one object' : `${problems.length} objects`} of the configuration, so nothing was deleted. ` +
        `Change or delete each first (a document object in its file, an API object at its path), then delete the ${kind} again:\n` +
        numbered(problems),
      problems,
    ),
} as const;

/**
 * Problems one per line, numbered, so that they stay apart where the message is shown on one
 * line (the CLI prints an error as one line).
 */
function numbered(problems: readonly ConfigProblem[]): string {
  return formatProblems(problems)
    .split('\n')
    .map((line, i) => `  ${i + 1}) ${line.trim()}.`)
    .join('\n');
}
