/**
 * JSON logs (pino). Logs never hold personal data or secrets: known sensitive paths are redacted, and
 * request bodies are never logged.
 */
import { pino, type Logger, type DestinationStream } from 'pino';

export type { Logger };

export const REDACT_PATHS = [
  'password',
  'newPassword',
  'token',
  'secret',
  'secrets',
  'writeKey',
  'email',
  'phone',
  'name',
  'address',
  'ip',
  'body',
  'authorization',
  'cookie',
  '*.password',
  '*.newPassword',
  '*.token',
  '*.secret',
  '*.secrets',
  '*.writeKey',
  '*.email',
  '*.phone',
  '*.address',
  '*.ip',
  '*.body',
  '*.authorization',
  '*.cookie',
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-forwarded-for"]',
  'res.headers["set-cookie"]',
];

export type LoggerOptions = { level: string; destination?: DestinationStream };

export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: 'candor' },
      redact: { paths: REDACT_PATHS, censor: '[redacted]' },
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
}

/** A logger that writes nowhere, for tests that do not look at logs. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
