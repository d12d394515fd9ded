import { open, readFile, rename, rm } from 'node:fs/promises';
import type { Command } from 'commander';
import { StoreErrors, exportState, importState, openStore } from '../../store/index.js';
import type { Store, StoreSnapshot } from '../../store/index.js';

const env = process.env;

interface StoreFlags {
  dataDir: string;
  store?: string;
}

function storeOptions(cmd: Command): Command {
  return cmd
    .option(
      '--data-dir <dir>',
      'data dir of the embedded store (env POSTERN_DATA_DIR)',
      env.POSTERN_DATA_DIR ?? './postern-data',
    )
    .option(
      '--store <url>',
      'PostgreSQL store, postgres://… (env POSTERN_STORE; default the embedded store)',
      env.POSTERN_STORE,
    );
}

async function withStore<T>(flags: StoreFlags, work: (store: Store) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir: flags.dataDir, store: flags.store });
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
    `${state.objects.length} objects`
  );
}

/** Writes through a temporary file and a rename, so FILE is never half-written; mode 0600. */
async function writePrivateFile(file: string, text: string): Promise<void> {
  const temp = `${file}.tmp-${process.pid}`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(text);
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw err;
  }
}

async function readBackupFile(file: string): Promise<unknown> {
  const text = await readFile(file, 'utf8');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw StoreErrors.backupInvalid(`${file} is not JSON (${(err as Error).message})`);
  }
}

/** `postern admin backup|restore`: the whole store as one JSON file, for either backend. */
export function adminCommand(program: Command): void {
  const admin = program.command('admin').description('operate on the store directly');
  storeOptions(admin.command('backup'))
    .description(
      'write the whole store (groups, keys with secret hashes, connectors, settings, objects) ' +
        'to FILE as JSON; the CA key and admin token stay in the data dir and are not included',
    )
    .argument('<file>', 'backup file to write (mode 0600)')
    .action(async (file: string, o: StoreFlags) => {
      const doc = await withStore(o, (store) => exportState(store));
      await writePrivateFile(file, `${JSON.stringify(doc, null, 2)}\n`);
      process.stderr.write(`backed up ${summary(doc.state)} to ${file}\n`);
    });
  storeOptions(admin.command('restore'))
    .description(
      'restore FILE into an empty store (stop the edges first); --force replaces everything ' +
        'in a non-empty one, in one transaction',
    )
    .argument('<file>', 'backup file written by `postern admin backup`')
    .option('--force', 'replace the whole content of a non-empty store')
    .action(async (file: string, o: StoreFlags & { force?: boolean }) => {
      const doc = await readBackupFile(file);
      const state = await withStore(o, async (store) => {
        await importState(store, doc, { force: o.force === true });
        return store.snapshot.read();
      });
      process.stderr.write(`restored ${summary(state)} from ${file}\n`);
    });
}
