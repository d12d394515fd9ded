import type { Duplex } from 'node:stream';

/** Writes `text` and resolves once the echo of it came back, bounded by `timeoutMs`. */
export function echoOnce(socket: Duplex, text: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    let got = '';
    const timer = setTimeout(() => done(new Error(`no echo within ${timeoutMs} ms`)), timeoutMs);
    const onData = (chunk: Buffer): void => {
      got += chunk.toString('utf8');
      if (got.length >= text.length) done();
    };
    function done(err?: Error): void {
      clearTimeout(timer);
      socket.off('data', onData);
      if (err) reject(err);
      else resolve(got);
    }
    socket.on('data', onData);
    socket.write(text);
  });
}
