// Memory held by idle tunnel streams: 10,000 streams (2,000 with --quick) opened on one
// MuxSession pair over loopback TCP, each established and left idle; the RSS and heap growth
// per stream per side is compared with DESIGN.md's budget of 20 KiB.
import net from 'node:net';
import { once } from 'node:events';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { MuxSession, type MuxStream } from '../../src/tunnel/index.js';
import type { Result, Suite, SuiteContext } from '../suite.js';

const BUDGET_KIB = 20;

/** A forced full collection, so that RSS and heap figures are not garbage still waiting. */
function collect(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

export const suite: Suite = {
  name: 'idle-streams',
  title: 'memory per idle tunnel stream (10,000 streams on one session)',
  timeoutMs: 120_000,
  run: (ctx: SuiteContext): Promise<Result[]> => measure(ctx),
};

async function measure(ctx: SuiteContext): Promise<Result[]> {
  const count = ctx.quick ? 2_000 : 10_000;
  const listener = net.createServer();
  listener.listen(0, '127.0.0.1');
  await once(listener, 'listening');
  const port = (listener.address() as net.AddressInfo).port;
  const accepted = once(listener, 'connection') as Promise<[net.Socket]>;
  const clientSocket = net.connect(port, '127.0.0.1');
  await once(clientSocket, 'connect');
  const [serverSocket] = await accepted;
  const options = { keepAliveIntervalMs: 0, maxStreams: count + 10, acceptBacklog: count + 10 };
  const client = new MuxSession(clientSocket, { role: 'client', ...options });
  const server = new MuxSession(serverSocket, { role: 'server', ...options });
  const held: MuxStream[] = [];
  server.on('stream', (s: MuxStream) => held.push(s));
  collect();
  const before = process.memoryUsage();
  const opened: MuxStream[] = [];
  for (let i = 0; i < count; i++) {
    const s = client.openStream();
    s.write(Buffer.from([1]));
    opened.push(s);
  }
  const deadline = Date.now() + 60_000;
  while (held.length < count && Date.now() < deadline && !ctx.signal.aborted) {
    await new Promise((r) => setTimeout(r, 20));
  }
  if (held.length < count) throw new Error(`only ${held.length} of ${count} streams arrived`);
  collect();
  const after = process.memoryUsage();
  const perStreamKiB = (bytes: number) => bytes / count / 2 / 1024;
  const rss = perStreamKiB(after.rss - before.rss);
  const heap = perStreamKiB(after.heapUsed - before.heapUsed);
  ctx.note(
    `${count} streams opened by one side, accepted by the other, one byte each, then idle; both sides in this process, figures halved per side.`,
  );
  ctx.note(
    `RSS ${(before.rss / 2 ** 20).toFixed(0)} → ${(after.rss / 2 ** 20).toFixed(0)} MiB; heap ${(before.heapUsed / 2 ** 20).toFixed(0)} → ${(after.heapUsed / 2 ** 20).toFixed(0)} MiB after a forced GC.`,
  );
  // Streams first: a session that ends under open streams errors them, and these have no listener.
  for (const s of [...opened, ...held]) s.destroy();
  client.destroy();
  server.destroy();
  listener.close();
  return [
    {
      case: 'idle stream, RSS per stream per side',
      value: rss,
      unit: 'KiB',
      secondary: { value: heap, unit: 'KiB heap' },
    },
    {
      case: 'idle streams: 20 KiB budget ÷ RSS per stream',
      value: BUDGET_KIB / Math.max(rss, 0.001),
      unit: '×',
      baseline: { case: 'the 20 KiB budget', value: 1 },
      target: 1,
    },
  ];
}
