import type { Command } from 'commander';
import { chooseEdge, runTcpStdio, startTcpListener } from '../../client/index.js';
import { PosternError } from '../../core/index.js';
import { splitHostPort } from '../../traffic/index.js';
import { createLogger, untilSignal } from '../logger.js';

interface TcpFlags {
  listen?: string;
  stdio?: boolean;
  edge?: string;
  ca?: string;
}

function invalid(message: string): PosternError {
  return new PosternError('POSTERN_ERR_INVALID_ARGUMENT', message);
}

/** `postern tcp HOST:PORT --listen ADDR | --stdio`: reaches a TCP application through the edge. */
export function tcpCommand(program: Command): void {
  program
    .command('tcp')
    .description(
      'reach a private TCP application through the edge access proxy, with the login of `postern login`',
    )
    .argument('<target>', 'the application as host:port, e.g. db.corp.internal:5432')
    .option('--listen <host:port>', 'accept local connections here, e.g. 127.0.0.1:5432')
    .option('--stdio', 'carry one connection on stdin/stdout (SSH ProxyCommand)')
    .option('--edge <url>', "the edge's access URL (default: the only edge you are logged in to)")
    .option(
      '--ca <file>',
      "PEM of the CA of the edge's access certificate (default: the stored one)",
    )
    .addHelpText(
      'after',
      '\nExamples:\n  postern tcp db.corp.internal:5432 --listen 127.0.0.1:5432\n' +
        '  ssh -o ProxyCommand="postern tcp %h:%p --stdio" host.corp.internal\n',
    )
    .action(async (target: string, o: TcpFlags) => {
      if (!splitHostPort(target)) {
        throw invalid(`"${target}" is not host:port; give e.g. db.corp.internal:5432.`);
      }
      if (Boolean(o.listen) === Boolean(o.stdio)) {
        throw invalid('give exactly one of --listen <host:port> or --stdio.');
      }
      const chosen = await chooseEdge({ edge: o.edge, caFile: o.ca });
      const common = {
        edgeUrl: chosen.edgeUrl,
        target,
        token: chosen.credential.token,
        caPem: chosen.caPem,
      };
      if (o.stdio) {
        await runTcpStdio({ ...common, stdin: process.stdin, stdout: process.stdout });
        // The session is over; an open stdin (an SSH client's pipe) must not keep us alive.
        process.stdin.destroy();
        return;
      }
      const listen = splitHostPort(o.listen ?? '', { allowZero: true });
      if (!listen)
        throw invalid(`--listen "${o.listen}" is not host:port; use e.g. 127.0.0.1:5432.`);
      const logger = createLogger();
      const forwarder = await startTcpListener({ ...common, listen, logger });
      const { address, port } = forwarder.address;
      process.stderr.write(
        `postern tcp: ${address}:${port} → ${target} through ${chosen.edgeUrl} (Ctrl-C to stop)\n`,
      );
      logger.info(
        { listen: `${address}:${port}`, target, edge: chosen.edgeUrl },
        'tcp forwarder ready',
      );
      await untilSignal();
      await forwarder.close();
    });
}
