import { open, readFile, rename, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import {
  StoreErrors,
  exportState,
  importState,
  openStore,
  parseBackup,
  redactConnectionString,
} from '../../store/index.js';
import type { Store, StoreSnapshot } from '../../store/index.js';

const env = process.env;
const DEFAULT_DATA_DIR = './postern-data';

interface StoreFlags {
  dataDir?: string;
  store?: string;
}

/** What restore and backup read and write, and how the summary line names it. */
interface StoreTarget {
  readonly dataDir: string;
  readonly store: string | undefined;
}

function storeOptions(cmd: Command, dataDirDefault: string): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      `data dir of the embedded store (env POSTERN_DATA_DIR${dataDirDefault})`,
    )
    .option(
      '--store <url>',
      'PostgreSQL store, postgres://… (env POSTERN_STORE; default the embedded store)',
    );
}

/** Flags, then the environment; an empty value names nothing (`POSTERN_DATA_DIR=` is unset). */
function chosenTarget(flags: StoreFlags): {
  dataDir: string | undefined;
  store: string | undefined;
} {
  const named = (...values: (string | undefined)[]) =>
    values.find((v) => v !== undefined && v !== '');
  return {
    dataDir: named(flags.dataDir, env.POSTERN_DATA_DIR),
    store: named(flags.store, env.POSTERN_STORE),
  };
}

function describeTarget(target: StoreTarget): string {
  return target.store === undefined
    ? resolve(target.dataDir)
    : redactConnectionString(target.store);
}

async function withStore<T>(
  target: StoreTarget,
  create: boolean,
  work: (store: Store) => Promise<T>,
): Promise<T> {
  const store = await openStore({ dataDir: target.dataDir, store: target.store, create });
  try {
    return await work(store);
  } finally {
    await store.close();
  }
}

function summary(state: StoreSnapshot): string {
  return (
    `${state.groups.length} groups, ${state.provisioningKeys.length} provisioning keys, ` +
    `${state.connectors.length} connectors, ${state.settings.length} settings, ` +
    `${state.objects.length} objects, ${state.adminTokens.length} admin tokens, ` +
    `${state.auditLog.length} audit records`
  );
}

/** Writes through a temporary file and a rename, so FILE is never half-written; mode 0600. */
async function writePrivateFile(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  try {
    const handle = await open(temp, 'wx', 0o600);
    try {
      await handle.writeFile(text);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw StoreErrors.backupWriteFailed(file, err);
  }
}

async function readBackupFile(file: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw StoreErrors.backupReadFailed(file, err);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw StoreErrors.backupInvalid(`${file} is not JSON (${(err as Error).message})`);
  }
}

const BACKUP_HELP =
  'write the whole store to FILE as JSON: connector groups, provisioning keys (secret hashes), ' +
  'connectors, settings, configuration objects, admin tokens (hashes) and the audit log. ' +
  'Refused when there is no store at --data-dir / --store. Not included, so copy them from ' +
  'the data dir yourself and keep them secret: ca.crt and ca.key (connectors trust this CA), ' +
  'token-signing-key.pem (without it every user login token is refused) and admin-token';

/** `postern admin backup|restore`: the whole store as one JSON file, for either backend. */
export function adminCommand(program: Command): void {
  const admin = program.command('admin').description('operate on the store directly');
  storeOptions(admin.command('backup'), `; default ${DEFAULT_DATA_DIR}`)
    .description(BACKUP_HELP)
    .argument('<file>', 'backup file to write (mode 0600)')
    .action(async (file: string, o: StoreFlags) => {
      const chosen = chosenTarget(o);
      const target = { dataDir: chosen.dataDir ?? DEFAULT_DATA_DIR, store: chosen.store };
      // create: false, so a mistyped --data-dir is an error, not a backup of a new empty store.
      const doc = await withStore(target, false, (store) => exportState(store));
      await writePrivateFile(file, `${JSON.stringify(doc, null, 2)}\n`);
      process.stderr.write(
        `backed up ${summary(doc.state)} from ${describeTarget(target)} to ${file}\n`,
      );
    });
  storeOptions(admin.command('restore'), '; no default: pass it or --store')
    .description(
      'restore FILE into an empty store (stop the edges first); --force replaces everything ' +
        'in a non-empty one, in one transaction. Needs --data-dir or --store (or their env ' +
        'variables): restore has no default location',
    )
    .argument('<file>', 'backup file written by `postern admin backup`')
    .option('--force', 'replace the whole content of a non-empty store')
    .action(async (file: string, o: StoreFlags & { force?: boolean }) => {
      const chosen = chosenTarget(o);
      if (chosen.dataDir === undefined && chosen.store === undefined) {
        throw StoreErrors.restoreTargetRequired();
      }
      const target = { dataDir: chosen.dataDir ?? DEFAULT_DATA_DIR, store: chosen.store };
      // Checked before the store is opened, so a bad file leaves no new empty store behind.
      const doc = parseBackup(await readBackupFile(file));
      const state = await withStore(target, true, async (store) => {
        await importState(store, doc, { force: o.force === true });
        return store.snapshot.read();
      });
      process.stderr.write(
        `restored ${summary(state)} from ${file} into ${describeTarget(target)}\n`,
      );
    });
}
