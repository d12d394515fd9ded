import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { once } from 'node:events';

/** A line receiver child process and what it received so far, by connection. */
export interface ReceiverProcess {
  readonly port: number;
  /** Every chunk received, concatenated, per connection number (1, 2, ...). */
  readonly received: Map<number, string>;
  /** Kills the process at once (SIGKILL), as a crash or outage would. */
  kill(): Promise<void>;
}

/**
 * Starts test/support/line-receiver.js as a child process on `port` (0 = any), TLS when `tls`
 * names a certificate and key file, and resolves once it listens (bounded by 10 s).
 */
export async function startReceiverProcess(
  port = 0,
  tls?: { certFile: string; keyFile: string },
): Promise<ReceiverProcess> {
  const script = new URL('./line-receiver.js', import.meta.url);
  const args = [script.pathname, String(port), ...(tls ? [tls.certFile, tls.keyFile] : [])];
  const child: ChildProcess = spawn(process.execPath, args, {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const received = new Map<number, string>();
  const listening = new Promise<number>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error('line receiver did not start in 10 s')),
      10_000,
    );
    child.once('exit', (code) => reject(new Error(`line receiver exited (${code})`)));
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const message = JSON.parse(line) as { listening?: number; conn?: number; data?: string };
      if (message.listening !== undefined) {
        clearTimeout(timer);
        resolve(message.listening);
      } else if (message.conn !== undefined) {
        received.set(message.conn, (received.get(message.conn) ?? '') + (message.data ?? ''));
      }
    });
  });
  const exited = once(child, 'exit');
  try {
    return {
      port: await listening,
      received,
      async kill() {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
        await exited;
      },
    };
  } catch (err) {
    child.kill('SIGKILL');
    throw err;
  }
}
