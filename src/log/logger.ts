import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** Structured JSON lines on stderr (journald keeps them); stdout stays for command output. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { name: 'tsfw' } }, pino.destination({ fd: 2, sync: true }));
}
