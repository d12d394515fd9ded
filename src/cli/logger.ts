import { pino, type Logger } from 'pino';

/**
 * The CLI's logger: JSON lines on stderr, secrets redacted wherever they appear. Lines are
 * buffered and written in batches of 4 KiB or every 100 ms, whichever comes first, and
 * synchronously when the process exits: at info level the edge logs every request, and a write
 * per line is a threadpool round trip and a syscall per request (nginx buffers its access log
 * for the same reason).
 */
export function createLogger(level = process.env.POSTERN_LOG_LEVEL ?? 'info'): Logger {
  return pino(
    {
      level,
      base: { pid: process.pid },
      redact: {
        paths: [
          '*.secret',
          '*.token',
          '*.keyPem',
          '*.provisionKey',
          '*.adminToken',
          '*.deviceCode',
          '*.device_code',
          'req.headers.authorization',
          'headers.authorization',
        ],
        censor: '[redacted]',
      },
    },
    pino.destination({ dest: 2, sync: false, minLength: 4096, periodicFlush: 100 }),
  );
}

/** Resolves on SIGINT or SIGTERM. */
export function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (signal: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(signal);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}
