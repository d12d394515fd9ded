// The private app of the edge-tunnel suite: a TCP echo server in its own process, so its
// CPU is not the bench's. Listens on 127.0.0.1 at the port given as argument (0 = any),
// prints {"port":N} on stdout once bound, and exits on SIGTERM or when stdin closes.
import net from 'node:net';

const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (socket) => {
  socket.on('error', () => undefined);
  socket.pipe(socket);
});
server.on('error', (err) => {
  process.stderr.write(`echo server: ${err.message}\n`);
  process.exit(1);
});
server.listen({ host: '127.0.0.1', port: Number(process.argv[2] ?? 0), backlog: 4096 }, () => {
  process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);
});
process.on('SIGTERM', () => process.exit(0));
process.stdin.on('close', () => process.exit(0));
process.stdin.resume();
