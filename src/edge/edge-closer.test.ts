import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { pino } from 'pino';
import { openMemoryStore, type Store } from '../store/index.js';
import { Closer } from './edge-closer.js';
import { startEdge } from './edge.js';

const silent = pino({ level: 'silent' });

test('a failed step closes the parts added so far in reverse order and rethrows its error', async () => {
  const closer = new Closer(silent);
  const closed: string[] = [];
  closer.add('first', () => closed.push('first'));
  const failure = new Error('step failed');
  await assert.rejects(
    closer.guard(async () => {
      await Promise.resolve();
      closer.add('second', async () => {
        await Promise.resolve();
        closed.push('second');
      });
      closer.add('third', () => closed.push('third'));
      throw failure;
    }),
    (err) => err === failure,
  );
  assert.deepEqual(closed, ['third', 'second', 'first']);
});

test('a part whose close throws does not stop the others from closing', async () => {
  const closer = new Closer(silent);
  const closed: string[] = [];
  closer.add('first', () => closed.push('first'));
  closer.add('broken', () => {
    throw new Error('close failed');
  });
  closer.add('last', () => closed.push('last'));
  await closer.closeAll();
  await closer.closeAll();
  assert.deepEqual(closed, ['last', 'first'], 'each part closes once');
});

test('a successful guarded step closes nothing', async () => {
  const closer = new Closer(silent);
  let closed = false;
  closer.add('part', () => (closed = true));
  assert.equal(await closer.guard(() => Promise.resolve(42)), 42);
  assert.equal(closed, false);
});

test('an edge whose admin port is taken closes its tunnel port and store', async (t) => {
  const dataDir = await mkdtemp(join(tmpdir(), 'postern-edge-closer-'));
  const taken = net.createServer();
  await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
  const tunnelPort = await freePort();
  t.after(async () => {
    await new Promise((resolve) => taken.close(resolve));
    await rm(dataDir, { recursive: true, force: true });
  });
  let store: Store | undefined;
  let storeClosed = false;
  await assert.rejects(
    startEdge({
      dataDir,
      openStore: async () => {
        store = await openMemoryStore();
        const close = store.close.bind(store);
        store.close = async () => {
          storeClosed = true;
          await close();
        };
        return store;
      },
      tunnelListen: `127.0.0.1:${tunnelPort}`,
      adminListen: `127.0.0.1:${(taken.address() as net.AddressInfo).port}`,
      logger: silent,
    }),
    /POSTERN_ERR_LISTEN_FAILED|admin API/,
  );
  assert.ok(store, 'the store was opened');
  assert.equal(storeClosed, true);
  // The tunnel port listened before the admin API failed; it must be free again.
  const again = net.createServer();
  await new Promise<void>((resolve, reject) => {
    again.once('error', reject);
    again.listen(tunnelPort, '127.0.0.1', resolve);
  });
  await new Promise((resolve) => again.close(resolve));
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}
