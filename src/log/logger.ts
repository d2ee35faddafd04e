import { pino } from 'pino';
import type { Logger } from 'pino';

export type { Logger };

/** An error as a log field: what happened, without the stack unless the log is at debug or finer. */
function errorField(error: unknown, withStack: boolean, depth = 0): unknown {
  if (!(error instanceof Error)) return error;
  const extra = error as Error & { kind?: unknown; code?: unknown; command?: unknown; exitCode?: unknown };
  return {
    type: error.name,
    message: error.message,
    ...(extra.kind !== undefined ? { kind: extra.kind } : {}),
    ...(extra.code !== undefined ? { code: extra.code } : {}),
    ...(extra.command !== undefined ? { command: extra.command } : {}),
    ...(extra.exitCode !== undefined ? { exitCode: extra.exitCode } : {}),
    ...(withStack && error.stack ? { stack: error.stack } : {}),
    ...(error.cause !== undefined && depth < 3 ? { cause: errorField(error.cause, withStack, depth + 1) } : {}),
  };
}

/**
 * Structured JSON lines on stderr (journald keeps them); stdout stays for command output. Errors
 * are logged as type, message and kind; stack traces (which name install paths) only at debug.
 */
export function createLogger(level: string, destination: pino.DestinationStream = pino.destination({ fd: 2, sync: true })): Logger {
  // The serializer asks the root logger, whose level follows config.log.level on reload.
  const withStack = (): boolean => root.isLevelEnabled('debug');
  const root: Logger = pino({
    level,
    base: { name: 'tsfw' },
    serializers: { err: (error: unknown) => errorField(error, withStack()) },
  }, destination);
  return root;
}
