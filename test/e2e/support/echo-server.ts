// The private sample app of the end-to-end tests: a TCP echo server. Run as a script inside
// the site namespace: `node echo-server.js <host:port>`. Prints {"listening":"host:port"} on
// stdout once bound; exits on SIGTERM.
import net from 'node:net';
import { parseHostPort } from './host-port.js';

const { host, port } = parseHostPort(process.argv[2]);
const server = net.createServer({ allowHalfOpen: true }, (socket) => {
  socket.on('error', () => undefined);
  socket.pipe(socket);
});
server.on('error', (err) => {
  process.stderr.write(`echo server: ${err.message}\n`);
  process.exit(1);
});
server.listen({ host, port }, () => {
  process.stdout.write(`${JSON.stringify({ listening: `${host}:${port}` })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
