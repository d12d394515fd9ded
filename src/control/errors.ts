import { PosternError } from '../core/index.js';

/** Errors of the control plane: enrollment, admin API, runtime configuration. */
export const controlErrors = {
  connectorUnknown: (id: string) =>
    new PosternError(
      'POSTERN_ERR_CONNECTOR_UNKNOWN',
      `Connector "${id}" is not enrolled here (deleted, or enrolled with another edge set). Remove its state directory and enroll it again with a provisioning key.`,
    ),
  connectorDeleted: (id: string) =>
    new PosternError(
      'POSTERN_ERR_CONNECTOR_REVOKED',
      `Connector ${id} was deleted by an administrator; the edge no longer accepts its certificate. To bring this host back, remove its state directory and enroll again with a provisioning key.`,
    ),
  unauthorized: () =>
    new PosternError(
      'POSTERN_ERR_UNAUTHORIZED',
      'The admin API needs a valid bearer token. Pass --token or set POSTERN_ADMIN_TOKEN (the edge writes it to <data-dir>/admin-token on first start).',
    ),
  badRequest: (why: string) =>
    new PosternError('POSTERN_ERR_BAD_REQUEST', `The request is invalid: ${why}.`),
  ownedByDocument: (kind: string, name: string, owner: string) =>
    new PosternError(
      'POSTERN_ERR_READ_ONLY',
      `${kind} "${name}" comes from the configuration document ${owner.replace(/^document:/, '')} and is read-only through the API. Change the document instead.`,
    ),
} as const;
