import { describe, expect, it } from 'vitest';
import { ExecError } from '../exec/errors.js';
import { createLogger } from './logger.js';

function capture(level: string) {
  const lines: Record<string, unknown>[] = [];
  const log = createLogger(level, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
  return { log, lines };
}

describe('logged errors', () => {
  const error = new ExecError('not-found', 'nft -j -f -', undefined, 'nft: not installed', { cause: new Error('spawn nft ENOENT') });

  it('carry type, message, kind and cause but no stack trace at the default level', () => {
    const { log, lines } = capture('info');
    log.child({ component: 'reconciler' }).error({ err: error }, 'reconcile pass failed');
    expect(lines[0]!.err).toEqual({
      type: 'ExecError', message: 'nft -j -f -: nft: not installed', kind: 'not-found', command: 'nft -j -f -',
      cause: { type: 'Error', message: 'spawn nft ENOENT' },
    });
    expect(JSON.stringify(lines)).not.toMatch(/\bat .*\.(js|ts|cjs):\d+/);
  });

  it('keep the stack at debug, where it helps', () => {
    const { log, lines } = capture('debug');
    log.error({ err: error }, 'reconcile pass failed');
    expect((lines[0]!.err as { stack: string }).stack).toMatch(/ExecError/);
  });
});

describe('log lines', () => {
  it('have the documented shape: numeric level, time, pid, hostname, name, bindings, fields, msg', () => {
    const { log, lines } = capture('info');
    log.child({ component: 'daemon' }).info({ pass: 3 }, 'pass done');
    expect(lines).toHaveLength(1);
    expect(Object.keys(lines[0]!)).toEqual(['level', 'time', 'pid', 'hostname', 'name', 'component', 'pass', 'msg']);
    expect(lines[0]).toMatchObject({ level: 30, pid: process.pid, name: 'tsfw', component: 'daemon', pass: 3, msg: 'pass done' });
  });

  it('drop what is below the level; a child keeps its own level once set', () => {
    const { log, lines } = capture('warn');
    const child = log.child({ component: 'monitor' });
    log.info({}, 'dropped');
    child.warn({}, 'kept');
    log.level = 'debug';
    child.debug({}, 'still dropped: the child was made at warn');
    child.level = 'debug';
    child.debug({}, 'now kept');
    log.level = 'silent';
    log.fatal({}, 'silent drops everything');
    expect(lines.map((l) => l.msg)).toEqual(['kept', 'now kept']);
    expect(log.isLevelEnabled('error')).toBe(false);
    expect(child.isLevelEnabled('debug')).toBe(true);
  });

  it('never throw on a field JSON cannot hold', () => {
    const { log, lines } = capture('info');
    const loop: Record<string, unknown> = { a: 1 };
    loop.self = loop;
    log.info({ loop, big: 10n }, 'odd fields');
    expect(lines[0]).toMatchObject({ loop: { a: 1, self: '[Circular]' }, big: '10' });
  });

  it('reject an unknown level', () => {
    expect(() => createLogger('loud')).toThrow(/unknown log level: loud/);
  });
});
