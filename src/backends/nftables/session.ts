import { ExecError } from '../../exec/errors.js';
import type { CommandResult, CommandRunner, InteractiveChild, InteractiveSpawner } from '../../exec/runner.js';

/**
 * How tsfw reads its own nftables table. The CLI runs one `nft -j -f -` per read. The daemon keeps
 * one `nft -j -i` running and writes each read to it, because a scheduled pass every second would
 * otherwise fork a 60 MB process and start nft each time: about 10 ms of CPU per pass, most of
 * what a converged pass costs (docs/PERFORMANCE.md, "Churn").
 *
 * The session only ever lists: `listTable` builds the one command it sends, so it cannot write.
 * Each command is followed by a line that is a syntax error to nft, `tsfw-end-N`; nft echoes it
 * in its error message, which marks the end of the answer (stderr is merged into stdout, so the
 * order holds). nft keeps every interactive line in its history, so the child is replaced after
 * `maxReads` reads; its HOME is a directory that does not exist, so it never writes a history
 * file. Whatever goes wrong (no answer in time, the child exits, output it does not understand) is
 * answered by a one-shot read instead, and after repeated failures the session rests.
 */

/** Reads one nftables table as `nft -j` prints it; undefined when there is no nft binary. */
export type TableLister = (family: string, table: string) => Promise<CommandResult | undefined>;

/** The JSON document listing one table. JSON, not text: nft's text parser would read a table named like a keyword (`counter`, `ip`) as that keyword. */
export function listTableDocument(family: string, table: string): string {
  return JSON.stringify({ nftables: [{ list: { table: { family, name: table } } }] });
}

/** One `nft -j -f -` per read: what the CLI uses, and the session's fallback. */
export function oneShotLister(runner: CommandRunner): TableLister {
  return (family, table) => runner.run('nft', ['-j', '-f', '-'], { input: listTableDocument(family, table), allowFailure: true }).catch((error: unknown) => {
    // No nft binary: nothing tsfw could remove exists, so `off` needs no tool; a write reports it.
    if (error instanceof ExecError && error.kind === 'not-found') return undefined;
    throw error;
  });
}

export interface NftSessionOptions {
  readonly spawner: InteractiveSpawner;
  /** Answers whatever the session cannot. */
  readonly fallback: TableLister;
  /** A directory that does not exist and that only root could create (under the run directory). */
  readonly home: string;
  readonly timers?: Pick<typeof globalThis, 'setTimeout' | 'clearTimeout'>;
  /** Monotonic milliseconds. */
  readonly now?: () => number;
  /** Told once per streak of failures (the reads still succeed through the fallback). */
  readonly onFailure?: (problem: string) => void;
  /** Reads per child before it is replaced (default 1000: nft's history then holds about 150 KB). */
  readonly maxReads?: number;
  /** How long one answer may take (default 10 s). */
  readonly timeoutMs?: number;
  /** After this many failures in a row the session rests for `restMs` (default 3, 10 minutes). */
  readonly maxFailures?: number;
  readonly restMs?: number;
}

/** Counters for state.json and tests. */
export interface NftSessionStatus {
  readonly pid: number | undefined;
  readonly reads: number;
  readonly fallbacks: number;
  readonly children: number;
}

export interface NftSession {
  readonly listTable: TableLister;
  status(): NftSessionStatus;
  /** Ends the child; a later read starts a new one. */
  stop(): Promise<void>;
}

const END_PREFIX = 'tsfw-end-';
/** What nft prints under an echoed line to point at the error. */
const CARET_LINE = /^\s*\^+\s*$/;

interface Pending {
  readonly end: string;
  readonly lines: string[];
  readonly resolve: (result: CommandResult) => void;
  readonly reject: (error: Error) => void;
}

/** Turns the lines nft printed for one list command into what `nft -j -f -` would have returned. Pure. */
export function answerFrom(lines: readonly string[]): CommandResult {
  const json = lines.filter((l) => l.startsWith('{'));
  const errors = lines.filter((l) => !l.startsWith('{') && l.trim() !== '');
  if (json.length === 1 && errors.length === 0) return { stdout: `${json[0]}\n`, stderr: '', exitCode: 0 };
  if (errors.length > 0) return { stdout: json.join('\n'), stderr: `${errors.join('\n')}\n`, exitCode: 1 };
  throw new Error(`nft -i answered with ${json.length} JSON lines`);
}

/** Builds the session; nothing runs until the first read. */
export function createNftSession(options: NftSessionOptions): NftSession {
  const timers = options.timers ?? globalThis;
  const now = options.now ?? (() => performance.now());
  const maxReads = options.maxReads ?? 1000;
  const timeoutMs = options.timeoutMs ?? 10_000;
  const maxFailures = options.maxFailures ?? 3;
  const restMs = options.restMs ?? 600_000;
  let child: InteractiveChild | undefined;
  let childReads = 0;
  let seq = 0;
  let pending: Pending | undefined;
  /** The line after an echoed end marker is nft's caret line. */
  let afterEnd = false;
  let failures = 0;
  let restUntil = -Infinity;
  let reads = 0;
  let fallbacks = 0;
  let children = 0;
  // One read at a time: answers are matched to questions by order.
  let queue: Promise<unknown> = Promise.resolve();

  const onLine = (line: string) => {
    if (afterEnd) {
      afterEnd = false;
      if (CARET_LINE.test(line)) return;
    }
    const p = pending;
    if (!p) return; // nothing asked: an answer that came after its timeout
    if (line !== p.end) {
      p.lines.push(line);
      return;
    }
    afterEnd = true;
    pending = undefined;
    // The marker's own error message comes just before its echo.
    if (p.lines.at(-1)?.startsWith('Error:')) p.lines.pop();
    try {
      p.resolve(answerFrom(p.lines));
    } catch (error) {
      p.reject(error as Error);
    }
  };

  const retire = (current: InteractiveChild | undefined) => {
    if (current === undefined) return;
    if (child === current) child = undefined;
    current.kill('SIGTERM');
  };

  const start = (): InteractiveChild => {
    // Lines of a child already replaced (after a timeout) must not answer the next question.
    const current: InteractiveChild = options.spawner.spawnInteractive('nft', ['-j', '-i'], (line) => {
      if (child === current) onLine(line);
    }, { HOME: options.home });
    children += 1;
    childReads = 0;
    afterEnd = false;
    void current.exited.then((exit) => {
      if (child !== current) return;
      child = undefined;
      const p = pending;
      pending = undefined;
      p?.reject(new Error(`nft -i exited (${exit.signal ?? `status ${exit.exitCode ?? '?'}`})${exit.stderr.trim() ? `: ${exit.stderr.trim().slice(-200)}` : ''}`));
    });
    return current;
  };

  const ask = (document: string): Promise<CommandResult> => new Promise((resolve, reject) => {
    const current = child ?? (child = start());
    const end = `${END_PREFIX}${seq++}`;
    const fail = (problem: string) => {
      pending = undefined;
      retire(current);
      reject(new Error(problem));
    };
    const timer = timers.setTimeout(() => fail(`nft -i gave no answer within ${timeoutMs} ms`), timeoutMs);
    const done = <T>(fn: (value: T) => void) => (value: T) => {
      timers.clearTimeout(timer);
      fn(value);
    };
    pending = { end, lines: [], resolve: done(resolve), reject: done(reject) };
    if (!current.write(`${document}\n${end}\n`)) done(fail)('nft -i is not running');
  });

  const read = async (family: string, table: string): Promise<CommandResult | undefined> => {
    if (now() < restUntil) {
      fallbacks += 1;
      return options.fallback(family, table);
    }
    try {
      const result = await ask(listTableDocument(family, table));
      reads += 1;
      failures = 0;
      childReads += 1;
      if (childReads >= maxReads) retire(child);
      return result;
    } catch (error) {
      failures += 1;
      fallbacks += 1;
      retire(child);
      if (failures === 1) options.onFailure?.(`${(error as Error).message}: reading with one nft per pass`);
      if (failures >= maxFailures) restUntil = now() + restMs;
      return options.fallback(family, table);
    }
  };

  return {
    listTable(family, table) {
      const next = queue.then(() => read(family, table));
      queue = next.catch(() => undefined);
      return next;
    },
    status: () => ({ pid: child?.pid, reads, fallbacks, children }),
    async stop() {
      const current = child;
      retire(current);
      if (current) await current.exited;
    },
  };
}
