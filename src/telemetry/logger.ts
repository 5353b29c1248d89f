import winston from 'winston';
import { z } from 'zod';
import { esLogConfig } from './es-log-transport';

export const loggingConfig = z
  .object({
    level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    /** ecs: one JSON object a line (for shipping); text: for people at a terminal. */
    format: z.enum(['ecs', 'text']).default('text'),
    elasticsearch: esLogConfig,
  })
  .strict()
  .prefault({});
export type LoggingConfig = z.output<typeof loggingConfig>;

/**
 * Loaded only for the ecs format: the package loads the Elastic APM agent (about 20 MB resident)
 * at import, to ask whether it runs.
 */
function ecsFormat(): typeof import('@elastic/ecs-winston-format').ecsFormat {
  return (require('@elastic/ecs-winston-format') as typeof import('@elastic/ecs-winston-format')).ecsFormat;
}

/** dockward's own log goes to stderr, so stdout stays free for command output. */
export function createLogger(cfg: LoggingConfig): winston.Logger {
  const format =
    cfg.format === 'ecs'
      ? ecsFormat()({ convertErr: true })
      : winston.format.combine(
          winston.format.timestamp({ format: 'HH:mm:ss.SSS' }),
          winston.format.printf(({ timestamp, level, message, ...rest }) => {
            const extra = Object.keys(rest).length ? ' ' + JSON.stringify(rest) : '';
            return `${timestamp} ${level.padEnd(5)} ${message}${extra}`;
          }),
        );
  return winston.createLogger({
    level: cfg.level,
    format,
    transports: [new winston.transports.Console({ stderrLevels: ['error', 'warn', 'info', 'debug'] })],
  });
}
