import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { clientErrors } from './errors.js';

/** What `postern login` keeps for one edge. */
export interface EdgeCredential {
  /** The edge's signed user token (audience `postern:cli`). */
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
  /** PEM of the CA that signs the edge's access listener certificate, when not a public one. */
  readonly caPem?: string | undefined;
  /** Who the token names, for `postern login --status`. */
  readonly user?: string | undefined;
}

interface CredentialsFile {
  readonly version: 1;
  readonly edges: Record<string, EdgeCredential>;
}

/**
 * Where credentials live: `$POSTERN_CLI_CONFIG_DIR`, else `$XDG_CONFIG_HOME/postern`, else
 * `~/.config/postern`. Not `$POSTERN_CONFIG_DIR`: that is the edge's watched configuration
 * directory, and a login in the edge's environment would write its token there.
 */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.POSTERN_CLI_CONFIG_DIR) return env.POSTERN_CLI_CONFIG_DIR;
  const base = env.XDG_CONFIG_HOME || join(homedir(), '.config');
  return join(base, 'postern');
}

/** The edge URL as a stable key: origin only, lower-case, no trailing slash. */
export function edgeKey(edgeUrl: string): string {
  try {
    return new URL(edgeUrl).origin.toLowerCase();
  } catch (err) {
    throw clientErrors.badEdgeUrl(edgeUrl, err);
  }
}

const FILE = 'credentials.json';

async function readFileSafe(dir: string): Promise<CredentialsFile> {
  let text: string;
  try {
    text = await readFile(join(dir, FILE), 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { version: 1, edges: {} };
    throw err;
  }
  try {
    const parsed = JSON.parse(text) as Partial<CredentialsFile>;
    if (parsed.version !== 1 || typeof parsed.edges !== 'object' || parsed.edges === null) {
      throw new Error('not a version 1 credentials file');
    }
    return { version: 1, edges: parsed.edges };
  } catch (err) {
    throw clientErrors.badCredentialsFile(join(dir, FILE), err);
  }
}

/** The stored credential for an edge, or undefined when the user never logged in there. */
export async function loadCredential(
  edgeUrl: string,
  options: { readonly configDir?: string } = {},
): Promise<EdgeCredential | undefined> {
  const file = await readFileSafe(options.configDir ?? defaultConfigDir());
  return file.edges[edgeKey(edgeUrl)];
}

/** Stores (or with `undefined`, forgets) an edge's credential; the file is 0600 in a 0700 folder. */
export async function saveCredential(
  edgeUrl: string,
  credential: EdgeCredential | undefined,
  options: { readonly configDir?: string } = {},
): Promise<void> {
  const dir = options.configDir ?? defaultConfigDir();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const file = await readFileSafe(dir);
  const edges = { ...file.edges };
  if (credential) edges[edgeKey(edgeUrl)] = credential;
  else delete edges[edgeKey(edgeUrl)];
  const tmp = join(dir, `${FILE}.${process.pid}.tmp`);
  await writeFile(tmp, JSON.stringify({ version: 1, edges }, null, 2) + '\n', { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, join(dir, FILE));
}

/** The edges (URL origins) the user has a stored login for, sorted. */
export async function storedEdges(
  options: { readonly configDir?: string } = {},
): Promise<string[]> {
  const file = await readFileSafe(options.configDir ?? defaultConfigDir());
  return Object.keys(file.edges).sort();
}

/** What a login brought back: the user token, its expiry and whose it is. */
export interface LoginAnswer {
  readonly token: string;
  readonly expiresAt: number;
  readonly user: string | undefined;
}

/** Stores a login's token for `edgeUrl` (with the CA to trust for it) and returns the credential. */
export async function storeLogin(
  answer: LoginAnswer,
  options: { edgeUrl: string; caPem?: string | undefined; configDir?: string | undefined },
): Promise<EdgeCredential> {
  const credential: EdgeCredential = {
    token: answer.token,
    expiresAt: answer.expiresAt,
    caPem: options.caPem,
    user: answer.user,
  };
  await saveCredential(
    options.edgeUrl,
    credential,
    options.configDir === undefined ? {} : { configDir: options.configDir },
  );
  return credential;
}
