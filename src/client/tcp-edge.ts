import { readFile } from 'node:fs/promises';
import { loadCredential, storedEdges, type EdgeCredential } from './credentials.js';
import { clientErrors } from './errors.js';

/** The edge a `postern tcp` command talks to, with the login stored for it. */
export interface ChosenEdge {
  readonly edgeUrl: string;
  readonly credential: EdgeCredential;
  /** PEM of the CA to trust for the access listener, if any (`--ca` wins over the stored one). */
  readonly caPem: string | undefined;
}

/**
 * Picks the edge (`--edge`, else the only one logged in to) and its stored login; throws
 * POSTERN_ERR_EDGE_REQUIRED when there is no single choice and POSTERN_ERR_LOGIN_REQUIRED when
 * the user never logged in there. Expiry is left to the edge, whose clock decides.
 */
export async function chooseEdge(options: {
  readonly edge?: string | undefined;
  readonly caFile?: string | undefined;
  readonly configDir?: string | undefined;
}): Promise<ChosenEdge> {
  const store = options.configDir === undefined ? {} : { configDir: options.configDir };
  let edgeUrl = options.edge;
  if (edgeUrl === undefined) {
    const edges = await storedEdges(store);
    if (edges.length !== 1 || edges[0] === undefined) throw clientErrors.edgeRequired(edges);
    edgeUrl = edges[0];
  }
  const credential = await loadCredential(edgeUrl, store);
  if (credential === undefined)
    throw clientErrors.loginRequired(edgeUrl, 'you never logged in there');
  const caPem =
    options.caFile === undefined ? credential.caPem : await readFile(options.caFile, 'utf8');
  return { edgeUrl, credential, caPem };
}
