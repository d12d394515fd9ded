// Raw HTTP/1.1 on both ends of a proxy, for what a Node HTTP client or server would hide: a node
// that records each request head byte for byte, a client that sends bytes as written.
import net from 'node:net';

/** A node that records each request head and answers 200. */
export async function rawNode(): Promise<{
  address: string;
  heads: string[];
  close(): Promise<void>;
}> {
  const heads: string[] = [];
  const srv = net.createServer((socket) => {
    let buffered = '';
    socket.setEncoding('latin1');
    socket.on('error', () => undefined);
    socket.on('data', (chunk: string) => {
      buffered += chunk;
      const end = buffered.indexOf('\r\n\r\n');
      if (end < 0) return;
      heads.push(buffered.slice(0, end + 2));
      buffered = buffered.slice(end + 4);
      socket.end('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok');
    });
  });
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  return {
    address: `127.0.0.1:${(srv.address() as net.AddressInfo).port}`,
    heads,
    close: () => new Promise<void>((resolve) => srv.close(() => resolve())),
  };
}

/** Sends one raw HTTP/1.1 request and returns the whole answer. */
export function exchange(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    let answer = '';
    socket.setEncoding('latin1');
    socket.setTimeout(5000, () => socket.destroy());
    socket.on('data', (c: string) => (answer += c));
    socket.on('close', () => resolve(answer));
    socket.on('error', reject);
  });
}

/** The header fields named `name` (any case) in a request head. */
export function values(head: string, name: string): string[] {
  return head
    .split('\r\n')
    .slice(1)
    .filter((l) => l.toLowerCase().startsWith(`${name}:`))
    .map((l) => l.slice(name.length + 1).trim());
}
