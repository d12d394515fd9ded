import { pino, type Logger } from 'pino';

/** The CLI's logger: JSON lines on stderr, secrets redacted wherever they appear. */
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
    pino.destination(2),
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
