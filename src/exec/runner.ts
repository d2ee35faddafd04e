import { spawn } from 'node:child_process';
import { closeSync, constants, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomHex } from '../fsx/random.js';
import type { ChildGuard } from './child-guard.js';
import { ExecError, classifyFailure } from './errors.js';

/** What a finished command printed. */
export interface CommandResult {
  readonly stdout: string;
  readonly stderr: string;
  readonly exitCode: number;
}

export interface RunOptions {
  /** Written to the child's stdin (nft -j -f -, iptables-restore). */
  readonly input?: string;
  readonly timeoutMs?: number;
  /** Return non-zero exits instead of throwing (for probes whose failure is an answer). */
  readonly allowFailure?: boolean;
}

/** The one seam to outside programs. Tests inject fakes or a namespaced runner. */
export interface CommandRunner {
  run(file: string, args: readonly string[], options?: RunOptions): Promise<CommandResult>;
}

/** How a long-running child (`nft -j monitor`) ended. */
export interface ChildExit {
  readonly exitCode?: number;
  readonly signal?: string;
  /** The last lines it wrote on stderr, for the log. */
  readonly stderr: string;
}

/** A long-running child whose stdout is consumed line by line. */
export interface SpawnedChild {
  readonly pid: number | undefined;
  /** Settles (never rejects) when the child has exited or could not be started. */
  readonly exited: Promise<ChildExit>;
  kill(signal?: NodeJS.Signals): void;
}

/** The streaming half of the seam: for children that run until stopped, such as `nft -j monitor`. */
export interface ProcessSpawner {
  spawn(file: string, args: readonly string[], onLine: (line: string) => void): SpawnedChild;
}

/** A long-running child that takes commands on stdin; its stdout and stderr arrive as one stream of lines. */
export interface InteractiveChild extends SpawnedChild {
  /** Writes to the child's stdin; false once the child is gone. */
  write(text: string): boolean;
}

/** For children that answer commands one at a time (`nft -j -i`, nftables/session.ts). */
export interface InteractiveSpawner {
  /** `env` is added to the child's environment. */
  spawnInteractive(file: string, args: readonly string[], onLine: (line: string) => void, env?: Readonly<Record<string, string>>): InteractiveChild;
}

const DEFAULT_TIMEOUT_MS = 30_000;
const STDERR_KEEP = 2_000;
/** A child that prints more than this (stdout + stderr) is killed: no listing tsfw reads is near it. */
const MAX_OUTPUT_BYTES = 100_000_000;
/** After a timeout's SIGTERM, the child gets this long before SIGKILL. */
const KILL_GRACE_MS = 5_000;

/**
 * Calls `onLine` for each line of a child's output (a last line without its newline at `end`), as
 * readline did for the watchers, without readline's interface and per-line events: a watcher
 * beside a busy neighbour reads dozens of lines a second for its whole life.
 */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let partial = '';
  const emit = (line: string) => onLine(line.endsWith('\r') ? line.slice(0, -1) : line);
  return {
    push(chunk) {
      let start = 0;
      let end = chunk.indexOf('\n');
      while (end >= 0) {
        emit(partial + chunk.slice(start, end));
        partial = '';
        start = end + 1;
        end = chunk.indexOf('\n', start);
      }
      partial += chunk.slice(start);
    },
    end() {
      if (partial !== '') emit(partial);
      partial = '';
    },
  };
}

/** How a child run to completion ended: an exit status or signal, or the reason it never ran. */
interface Outcome {
  readonly exitCode?: number;
  readonly signal?: string;
  readonly stdout: string;
  readonly stderr: string;
  readonly spawnError?: NodeJS.ErrnoException;
  readonly timedOut: boolean;
  readonly overflow: boolean;
}

/** Runs a child to completion and collects its output (node:child_process: no shell). */
function runToEnd(file: string, args: readonly string[], stdin: number | 'ignore', timeoutMs: number, env: NodeJS.ProcessEnv, onChild?: (pid: number) => void): Promise<Outcome> {
  return new Promise((resolve) => {
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    let size = 0;
    let timedOut = false;
    let overflow = false;
    let settled = false;
    const child = spawn(file, args, { stdio: [stdin, 'pipe', 'pipe'], env });
    if (child.pid !== undefined) onChild?.(child.pid);
    const collect = (into: Buffer[]) => (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_OUTPUT_BYTES) {
        overflow = true;
        child.kill('SIGKILL');
      } else into.push(chunk);
    };
    child.stdout?.on('data', collect(out));
    child.stderr?.on('data', collect(err));
    let grace: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGTERM');
      grace = setTimeout(() => child.kill('SIGKILL'), KILL_GRACE_MS);
    }, timeoutMs);
    const settle = (outcome: Omit<Outcome, 'stdout' | 'stderr' | 'timedOut' | 'overflow'>) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      clearTimeout(grace);
      resolve({ ...outcome, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut, overflow });
    };
    child.once('error', (error: NodeJS.ErrnoException) => settle({ spawnError: error }));
    child.once('close', (code, signal) => settle({ exitCode: code ?? undefined, signal: signal ?? undefined }));
  });
}

/**
 * Runs programs through node:child_process: no shell, a timeout, and failures classified into
 * ExecError. The daemon passes a guard, so its children are tagged and long-running ones die with
 * it, and is told each run child's pid (`onChild`), so its monitor knows its own transactions.
 * (execa did this before; it cost a first call 8-10 ms more and every call 3-4 ms more:
 * docs/PERFORMANCE.md.)
 */
export function createProcessRunner(guard?: ChildGuard, onChild?: (pid: number) => void): CommandRunner & ProcessSpawner & InteractiveSpawner {
  const env: NodeJS.ProcessEnv = { ...process.env, LC_ALL: 'C', ...guard?.env };
  return {
    spawn(file, args, onLine) {
      return startWatcher(guard ? guard.wrap(file, args) : [file, args], 'ignore', onLine, env);
    },
    spawnInteractive(file, args, onLine, extraEnv = {}) {
      // One ordered stream: what nft prints for an error must arrive before the next answer.
      const merged = ['sh', ['-c', 'exec "$0" "$@" 2>&1', file, ...args]] as const;
      return startWatcher(guard ? guard.wrap(merged[0], merged[1]) : merged, 'pipe', onLine, { ...env, ...extraEnv });
    },
    async run(file, args, options = {}) {
      const command = [file, ...args].join(' ');
      const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
      const inputFd = options.input === undefined ? undefined : openInputFile(options.input);
      let result: Outcome;
      try {
        result = await runToEnd(file, args, inputFd ?? 'ignore', timeoutMs, env, onChild);
      } finally {
        if (inputFd !== undefined) closeSync(inputFd);
      }
      const { stdout, stderr } = result;
      if (result.spawnError) {
        const code = result.spawnError.code;
        if (code === 'ENOENT') throw new ExecError('not-found', command, undefined, `${file}: not installed`, { cause: result.spawnError });
        if (code === 'EACCES') throw new ExecError('permission', command, undefined, `${file}: permission denied`, { cause: result.spawnError });
        throw new ExecError('failed', command, undefined, result.spawnError.message, { cause: result.spawnError });
      }
      if (result.timedOut) throw new ExecError('timeout', command, undefined, `timed out after ${timeoutMs} ms`);
      if (result.overflow) throw new ExecError('failed', command, undefined, `printed more than ${MAX_OUTPUT_BYTES} bytes`);
      if (result.exitCode === undefined) throw new ExecError('failed', command, undefined, `killed by ${result.signal ?? 'signal'}`);
      if (result.exitCode !== 0 && !options.allowFailure) throw classifyFailure(command, result.exitCode, stderr);
      return { stdout, stderr, exitCode: result.exitCode };
    },
  };
}

/** Starts a long-running child whose stdout is read line by line; stdin is a pipe for interactive children. */
function startWatcher([command, commandArgs]: readonly [string, readonly string[]], stdin: 'ignore' | 'pipe', onLine: (line: string) => void, env: NodeJS.ProcessEnv): InteractiveChild {
  const child = spawn(command, commandArgs, { stdio: [stdin, 'pipe', 'pipe'], env });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP);
  });
  const lines = lineSplitter(onLine);
  child.stdout?.setEncoding('utf8').on('data', lines.push).on('end', lines.end);
  // A write racing the child's exit fails with EPIPE: the exit is reported through `exited`.
  child.stdin?.on('error', () => undefined);
  const exited = new Promise<ChildExit>((resolve) => {
    let settled = false;
    const settle = (exit: ChildExit) => {
      if (!settled) resolve(exit);
      settled = true;
    };
    child.once('error', (error) => settle({ stderr: `${command}: ${error.message}` }));
    child.once('close', (code, signal) => settle({ exitCode: code ?? undefined, signal: signal ?? undefined, stderr }));
  });
  return {
    pid: child.pid,
    exited,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
    write: (text) => (child.stdin && child.stdin.writable && child.exitCode === null && child.signalCode === null ? (child.stdin.write(text), true) : false),
  };
}

/**
 * Stdin for a child is a descriptor of an unlinked private temp file, not a pipe: Node's stdio pipes are Unix
 * sockets, and `nft -f -` opens /dev/stdin by path, which fails on a socket (ENXIO). The file gets a random
 * name in the temp directory, is created exclusively (never through a planted name or symlink), 0600, and
 * unlinked at once: the descriptor keeps the content readable and nothing is left behind, not even a
 * directory. The input is written at offset 0 without moving the descriptor's offset, so the child reads it
 * from the start.
 */
function openInputFile(input: string): number {
  const flags = constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;
  for (let attempt = 0; ; attempt++) {
    const file = join(tmpdir(), `tsfw-stdin-${randomHex(8)}`);
    let fd: number;
    try {
      fd = openSync(file, flags, 0o600);
    } catch (error) {
      // A name that exists already (64 random bits: planted, not chance): take another.
      if ((error as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 8) continue;
      throw error;
    }
    try {
      unlinkSync(file);
      const bytes = Buffer.from(input);
      for (let at = 0; at < bytes.length; ) at += writeSync(fd, bytes, at, bytes.length - at, at);
      return fd;
    } catch (error) {
      closeSync(fd);
      throw error;
    }
  }
}

/** Runs every command inside a network namespace (`ip netns exec NAME ...`); used by tests. */
export function inNetns(runner: CommandRunner, netns: string): CommandRunner {
  return {
    async run(file, args, options) {
      const missing = /exec of ".*" failed: No such file/;
      let result: CommandResult;
      try {
        result = await runner.run('ip', ['netns', 'exec', netns, file, ...args], options);
      } catch (error) {
        // ip netns exec reports a missing binary as a failed exit with "exec of ... failed: No such file".
        if (error instanceof ExecError && missing.test(error.stderr)) {
          throw new ExecError('not-found', error.command, error.exitCode, `${file}: not installed`, { cause: error });
        }
        throw error;
      }
      // With allowFailure the same exit comes back as a result: still a missing binary, as outside a namespace.
      if (result.exitCode !== 0 && missing.test(result.stderr)) {
        throw new ExecError('not-found', ['ip', 'netns', 'exec', netns, file, ...args].join(' '), result.exitCode, `${file}: not installed`);
      }
      return result;
    },
  };
}

/** The spawner counterpart of `inNetns`: long-running children inside a namespace (tests). */
export function inNetnsSpawner(spawner: ProcessSpawner, netns: string): ProcessSpawner {
  return { spawn: (file, args, onLine) => spawner.spawn('ip', ['netns', 'exec', netns, file, ...args], onLine) };
}
