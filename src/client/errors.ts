import { PosternError } from '../core/index.js';

/** Errors of the user's side: `postern login` and `postern tcp`. */
export const clientErrors = {
  badEdgeUrl: (url: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_EDGE_URL',
      `"${url}" is not an edge URL. Give the edge's access address as a URL, e.g. https://edge.example.com:8444.`,
      { cause },
    ),
  badCredentialsFile: (path: string, cause?: unknown) =>
    new PosternError(
      'POSTERN_ERR_CREDENTIALS_FILE',
      `The credentials file ${path} cannot be read as Postern credentials. Remove it and log in again with \`postern login --edge <url>\`.`,
      { cause },
    ),
} as const;
