/**
 * A tiny log receiver (a SIEM stand-in) run as a separate process by the log streaming tests:
 * `node line-receiver.js <port> [<cert.pem> <key.pem>]` listens on 127.0.0.1 (TLS when a
 * certificate is given) and reports on stdout, one JSON object a line: `{"listening":port}`,
 * then `{"conn":n,"data":"..."}` for every chunk it receives. Killing it is the outage.
 */
import net from 'node:net';
import tls from 'node:tls';
import { readFileSync } from 'node:fs';

const [portText = '0', certFile, keyFile] = process.argv.slice(2);
let connections = 0;
const onSocket = (socket: net.Socket): void => {
  const conn = (connections += 1);
  socket.setEncoding('utf8');
  socket.on('data', (data: string) => process.stdout.write(`${JSON.stringify({ conn, data })}\n`));
  socket.on('error', () => undefined);
};
const server =
  certFile && keyFile
    ? tls.createServer({ cert: readFileSync(certFile), key: readFileSync(keyFile) }, onSocket)
    : net.createServer(onSocket);
server.listen({ host: '127.0.0.1', port: Number(portText) }, () => {
  const { port } = server.address() as net.AddressInfo;
  process.stdout.write(`${JSON.stringify({ listening: port })}\n`);
});
