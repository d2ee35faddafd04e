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
