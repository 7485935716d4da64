// JSON-lines logging (pino) to stderr, so stdout stays free for a task's summary or data.
import { pino, type Logger } from 'pino';

export type { Logger };

export function createLogger(name: string, level = process.env.LOG_LEVEL ?? 'info'): Logger {
  return pino(
    { name, level, base: { task: name }, timestamp: pino.stdTimeFunctions.isoTime },
    pino.destination(2),
  );
}
