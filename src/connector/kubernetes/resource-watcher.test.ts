import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { Backoff } from '../../core/index.js';
import {
  kubePaths,
  serviceObject,
  startFakeKubeApi,
  type FakeKubeApi,
} from '../../../test/support/fake-kube-api.js';
import { KubeClient } from './kube-client.js';
import { ResourceWatcher } from './resource-watcher.js';

let api: FakeKubeApi;
before(async () => {
  api = await startFakeKubeApi();
});
after(() => api.close());

function client(token = api.token): KubeClient {
  return new KubeClient({
    server: api.url,
    caPem: api.caPem,
    token: () => Promise.resolve(token),
    namespace: 'default',
  });
}

/** Resolves when `check` holds after a change, bounded in time. */
function until(check: () => boolean, what: string, changes: { wait: () => Promise<void> }) {
  return (async () => {
    const deadline = Date.now() + 5000;
    while (!check()) {
      if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
      await changes.wait();
    }
  })();
}

function changeSignal() {
  let wake: () => void = () => undefined;
  return {
    notify: () => wake(),
    wait: () =>
      new Promise<void>((resolve) => {
        wake = resolve;
        setTimeout(resolve, 100);
      }),
  };
}

function running(path: string, c: KubeClient, errors: Error[] = []) {
  const changes = changeSignal();
  const stop = new AbortController();
  const watcher = new ResourceWatcher(c, path, {
    onChange: changes.notify,
    onError: (err) => (errors.push(err), changes.notify()),
    backoff: new Backoff({ initialMs: 20, maxMs: 100 }),
    watchTimeoutSeconds: 30,
  });
  const done = watcher.run(stop.signal);
  return {
    watcher,
    changes,
    async stop() {
      stop.abort();
      await done;
      c.close();
    },
  };
}

test('lists, then follows watch events from the list version, with the bearer token over TLS', async () => {
  const { services } = kubePaths('w1');
  api.upsert(services, serviceObject('w1', 'a'));
  const r = running(services, client());
  try {
    await until(() => r.watcher.items.has('w1/a'), 'the list', r.changes);
    api.upsert(services, serviceObject('w1', 'b'));
    api.remove(services, 'a');
    await until(
      () => r.watcher.items.has('w1/b') && !r.watcher.items.has('w1/a'),
      'the watch events',
      r.changes,
    );
    const watches = api.requests.filter(
      (q) => q.path.startsWith(services) && q.path.includes('watch=1'),
    );
    assert.ok(watches.length >= 1);
    assert.match(watches[0]!.path, /resourceVersion=\d+/);
    assert.ok(api.requests.every((q) => q.authorized));
    // A watch the server ends is resumed from the last version, without listing again.
    api.endWatches();
    api.upsert(services, serviceObject('w1', 'c'));
    await until(() => r.watcher.items.has('w1/c'), 'the resumed watch', r.changes);
    assert.equal(r.watcher.lists, 1);
  } finally {
    await r.stop();
  }
});

for (const goneAs of ['event', 'status'] as const) {
  test(`410 Gone (${goneAs === 'event' ? 'an ERROR event' : 'HTTP 410'}) makes the watcher list again`, async () => {
    const { services } = kubePaths(`gone-${goneAs}`);
    const ns = `gone-${goneAs}`;
    api.goneAs = goneAs;
    api.upsert(services, serviceObject(ns, 'a'));
    const r = running(services, client());
    try {
      await until(() => r.watcher.items.has(`${ns}/a`), 'the list', r.changes);
      // The history is compacted and the open watch ends: resuming from the old version fails.
      api.compact();
      api.remove(services, 'a');
      api.upsert(services, serviceObject(ns, 'b'));
      api.compact();
      api.endWatches();
      await until(
        () =>
          r.watcher.lists >= 2 && r.watcher.items.has(`${ns}/b`) && !r.watcher.items.has(`${ns}/a`),
        'the second list',
        r.changes,
      );
    } finally {
      api.goneAs = 'event';
      await r.stop();
    }
  });
}

test('a refused request is reported and retried with backoff until it succeeds', async () => {
  const { services } = kubePaths('locked');
  api.forbidden.add('locked');
  api.upsert(services, serviceObject('locked', 'a'));
  const errors: Error[] = [];
  const r = running(services, client(), errors);
  try {
    await until(() => errors.length >= 2, 'two failures', r.changes);
    assert.equal((errors[0] as { code?: string }).code, 'POSTERN_ERR_KUBERNETES_API');
    assert.match(errors[0]!.message, /403.*list and watch/s);
    assert.equal(r.watcher.synced, false);
    api.forbidden.delete('locked');
    await until(() => r.watcher.items.has('locked/a'), 'the list after the fix', r.changes);
  } finally {
    await r.stop();
  }
});

test('a quiet watch is not mistaken for a dead connection', async () => {
  const { services } = kubePaths('quiet');
  api.upsert(services, serviceObject('quiet', 'a'));
  const c = new KubeClient(
    { server: api.url, caPem: api.caPem, token: () => Promise.resolve(api.token), namespace: 'x' },
    { requestTimeoutMs: 100 },
  );
  const errors: Error[] = [];
  const r = running(services, c, errors);
  try {
    await until(() => r.watcher.items.has('quiet/a'), 'the list', r.changes);
    // Ten times the request timeout without a single event or bookmark.
    await new Promise((resolve) => setTimeout(resolve, 1000));
    assert.deepEqual(errors, []);
    assert.equal(r.watcher.lists, 1);
  } finally {
    await r.stop();
  }
});

test('a wrong token is a 401 with a coded error', async () => {
  const c = client('wrong');
  try {
    await assert.rejects(c.list(kubePaths('x').services), {
      code: 'POSTERN_ERR_KUBERNETES_API',
      message: /401/,
    });
  } finally {
    c.close();
  }
});

test('a server whose certificate is not signed by the configured CA is refused', async () => {
  const c = new KubeClient({
    server: api.url,
    token: () => Promise.resolve(api.token),
    namespace: 'x',
  });
  try {
    await assert.rejects(c.list(kubePaths('x').services), {
      code: 'POSTERN_ERR_KUBERNETES_UNREACHABLE',
    });
  } finally {
    c.close();
  }
});
