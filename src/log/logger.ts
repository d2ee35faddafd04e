import { hostname } from 'node:os';
import { writeSync } from 'node:fs';

/**
 * Structured JSON lines on stderr (journald keeps them); stdout stays for command output. The
 * lines have pino's shape (`level` as a number, `time` in ms, `pid`, `hostname`, `name`, the
 * child's bindings, the fields, `msg`), which log shippers and the tests read. Errors are logged as
 * type, message and kind; stack traces (which name install paths) only at debug or finer.
 *
 * tsfw's own and not pino: every CLI start paid for pino's transport machinery (worker_threads,
 * sonic-boom, assert), though tsfw only ever writes a few lines synchronously to fd 2
 * (docs/PERFORMANCE.md, "CLI start-up").
 */
export const LEVELS = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60, silent: Infinity } as const;
export type LevelName = keyof typeof LEVELS;

export type LogFn = (fields: Record<string, unknown>, msg: string) => void;

export interface Logger {
  /** The lowest level written; a child starts at its parent's level and is set apart from it. */
  level: string;
  isLevelEnabled(level: string): boolean;
  child(bindings: Record<string, unknown>): Logger;
  trace: LogFn;
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  fatal: LogFn;
}

/** Where lines go: anything with a `write(line)` (a stream in tests); fd 2 by default. */
export interface LogDestination {
  write(line: string): unknown;
}

const stderr: LogDestination = {
  write: (line) => {
    try {
      writeSync(2, line);
    } catch {
      // stderr closed or full (EAGAIN on a non-blocking pipe): a log line is not worth a crash.
    }
  },
};

function levelValue(level: string): number {
  const value = (LEVELS as Record<string, number>)[level];
  if (value === undefined) throw new Error(`unknown log level: ${level}`);
  return value;
}

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

/** JSON that never throws: a bigint becomes a string, a repeated object `"[Circular]"`. */
function safeJson(record: Record<string, unknown>): string {
  const seen = new WeakSet<object>();
  return JSON.stringify(record, (_key, value: unknown) => {
    if (typeof value === 'bigint') return value.toString();
    if (typeof value === 'object' && value !== null) {
      if (seen.has(value)) return '[Circular]';
      seen.add(value);
    }
    return value;
  });
}

export function createLogger(level: string, destination: LogDestination = stderr): Logger {
  levelValue(level);
  const head = { pid: process.pid, hostname: hostname(), name: 'tsfw' };
  // Stack traces follow the root logger, whose level follows config.log.level on reload.
  const withStack = (): boolean => root.isLevelEnabled('debug');

  const make = (bindings: Record<string, unknown>, initial: string): Logger => {
    let threshold = levelValue(initial);
    let name = initial;
    const at = (value: number): LogFn => (fields, msg) => {
      if (value < threshold) return;
      const record: Record<string, unknown> = { level: value, time: Date.now(), ...head, ...bindings };
      for (const [key, field] of Object.entries(fields)) record[key] = field instanceof Error ? errorField(field, withStack()) : field;
      record.msg = msg;
      destination.write(`${safeJson(record)}\n`);
    };
    const logger: Logger = {
      get level() {
        return name;
      },
      set level(next: string) {
        threshold = levelValue(next);
        name = next;
      },
      isLevelEnabled: (l) => levelValue(l) >= threshold,
      child: (more) => make({ ...bindings, ...more }, name),
      trace: at(LEVELS.trace),
      debug: at(LEVELS.debug),
      info: at(LEVELS.info),
      warn: at(LEVELS.warn),
      error: at(LEVELS.error),
      fatal: at(LEVELS.fatal),
    };
    return logger;
  };
  const root = make({}, level);
  return root;
}
