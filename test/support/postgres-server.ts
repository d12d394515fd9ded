import { execFile, execFileSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';

const run = promisify(execFile);

/** Where Debian's postgresql-<major> package installs the server binaries. */
const debianRoot = '/usr/lib/postgresql';
/** Every external command gets at most this long (initdb on a slow disk, pg_ctl -w). */
const COMMAND_TIMEOUT_MS = 60_000;
const START_ATTEMPTS = 3;

const setupHint =
  'PostgreSQL server binaries (initdb, pg_ctl) are needed for the PostgreSQL store tests: ' +
  'run scripts/setup-test-host.sh (installs the Debian package postgresql).';

/** A throwaway PostgreSQL server in a temporary directory, listening on 127.0.0.1 only. */
export interface PostgresServer {
  /** Connection string of the database `postern` created at start. */
  readonly connectionString: string;
  /** Creates another empty database and returns its connection string. */
  createDatabase(): Promise<string>;
  /** Stops the server (immediate shutdown) and removes its directory. */
  stop(): Promise<void>;
}

/**
 * Finds the PostgreSQL bin directory holding initdb and pg_ctl: $POSTERN_PG_BIN when set, else
 * the newest Debian one. Throws with a setup hint when there is none, so tests fail loudly
 * instead of skipping.
 */
export function findPostgresBin(): string {
  const override = process.env['POSTERN_PG_BIN'];
  if (override !== undefined && override !== '') {
    if (existsSync(join(override, 'initdb')) && existsSync(join(override, 'pg_ctl')))
      return override;
    throw new Error(`POSTERN_PG_BIN=${override} holds no initdb/pg_ctl. ${setupHint}`);
  }
  const majors = existsSync(debianRoot)
    ? readdirSync(debianRoot)
        .filter((d) => /^\d+$/.test(d))
        .sort((a, b) => Number(b) - Number(a))
    : [];
  for (const major of majors) {
    const bin = join(debianRoot, major, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  throw new Error(`No initdb/pg_ctl found under ${debianRoot}/<version>/bin. ${setupHint}`);
}

interface Runner {
  /** Prefix that runs a command as the server's owner (empty when not root). */
  readonly prefix: readonly string[];
  readonly uid: number;
  readonly gid: number;
}

/** PostgreSQL refuses to run as root, so as root the server runs as Debian's `postgres` user. */
function serverUser(): Runner {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0) return { prefix: [], uid, gid: process.getgid?.() ?? 0 };
  const id = (flag: string) =>
    Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8', timeout: 5000 }).trim());
  try {
    return { prefix: ['runuser', '-u', 'postgres', '--'], uid: id('-u'), gid: id('-g') };
  } catch (err) {
    throw new Error(
      `Running as root, but there is no "postgres" user to own the server. ${setupHint}`,
      {
        cause: err,
      },
    );
  }
}

function exec(runner: Runner, file: string, args: readonly string[]) {
  const [cmd, ...rest] = [...runner.prefix, file, ...args];
  return run(cmd!, rest, { timeout: COMMAND_TIMEOUT_MS, cwd: '/' });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address !== null
          ? resolve(address.port)
          : reject(new Error('no port')),
      );
    });
  });
}

async function startOnFreePort(bin: string, runner: Runner, dir: string): Promise<number> {
  const data = join(dir, 'data');
  let lastError: unknown;
  // The port is free when picked but could be taken before the server binds it; retry a little.
  for (let attempt = 0; attempt < START_ATTEMPTS; attempt++) {
    const port = await freePort();
    const settings = [
      `-p ${port}`,
      "-c listen_addresses='127.0.0.1'",
      `-k ${dir}`,
      // A test server: durability is not needed, speed is.
      '-c fsync=off',
      '-c synchronous_commit=off',
      '-c full_page_writes=off',
      '-c max_connections=200',
    ].join(' ');
    const logFile = join(dir, 'server.log');
    const args = ['-D', data, '-l', logFile, '-w', '-t', '30', '-o', settings, 'start'];
    try {
      await exec(runner, join(bin, 'pg_ctl'), args);
      return port;
    } catch (err) {
      const log = await readFile(logFile, 'utf8').catch(() => '');
      lastError = new Error(`pg_ctl start failed: ${String(err)}\n${log.slice(-2000)}`);
    }
  }
  throw lastError;
}

async function adminQuery(port: number, database: string, text: string): Promise<void> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    user: 'postgres',
    database,
    connectionTimeoutMillis: 10_000,
  });
  await client.connect();
  try {
    await client.query(text);
  } finally {
    await client.end();
  }
}

/**
 * Starts a PostgreSQL server: initdb into a new temporary directory (owned by `postgres` when
 * running as root), pg_ctl start on 127.0.0.1 with a free port and the unix socket inside that
 * directory, trust authentication, and one database named `postern`.
 */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = findPostgresBin();
  const runner = serverUser();
  const dir = await mkdtemp(join(tmpdir(), 'postern-pg-'));
  let port: number | undefined;
  const stopArgs = ['-D', join(dir, 'data'), '-m', 'immediate'];
  const stopServer = async () => {
    if (port === undefined) return;
    port = undefined;
    await exec(runner, join(bin, 'pg_ctl'), [...stopArgs, '-w', '-t', '30', 'stop']);
  };
  // A crashed test run must not leave a server behind.
  const onExit = () => {
    if (port === undefined) return;
    const [cmd, ...rest] = [...runner.prefix, join(bin, 'pg_ctl'), ...stopArgs, 'stop'];
    try {
      execFileSync(cmd ?? 'pg_ctl', rest, { timeout: 10_000, stdio: 'ignore' });
      rmSync(dir, { recursive: true, force: true });
    } catch {
      // Best effort while exiting.
    }
  };
  try {
    await chown(dir, runner.uid, runner.gid);
    const initdb = [
      '-D',
      join(dir, 'data'),
      '-U',
      'postgres',
      '-A',
      'trust',
      '-E',
      'UTF8',
      '--no-sync',
    ];
    await exec(runner, join(bin, 'initdb'), initdb);
    port = await startOnFreePort(bin, runner, dir);
    process.once('exit', onExit);
    await adminQuery(port, 'postgres', 'CREATE DATABASE postern');
  } catch (err) {
    await stopServer().catch(() => undefined);
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
  const serverPort = port;
  const url = (db: string) => `postgres://postgres@127.0.0.1:${serverPort}/${db}`;
  let databases = 0;
  return {
    connectionString: url('postern'),
    async createDatabase() {
      const name = `postern_${++databases}`;
      await adminQuery(serverPort, 'postgres', `CREATE DATABASE ${name}`);
      return url(name);
    },
    async stop() {
      process.off('exit', onExit);
      try {
        await stopServer();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}
