import { closeSync, mkdtempSync, openSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
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

const DEFAULT_TIMEOUT_MS = 30_000;
const STDERR_KEEP = 2_000;

/**
 * Runs programs with execa: no shell, a timeout, and failures classified into ExecError. The
 * daemon passes a guard, so its children are tagged and long-running ones die with it.
 */
export function createExecaRunner(guard?: ChildGuard): CommandRunner & ProcessSpawner {
  const env = { LC_ALL: 'C', ...guard?.env };
  return {
    spawn(file, args, onLine) {
      const [command, commandArgs] = guard ? guard.wrap(file, args) : [file, args];
      const child = execa(command, commandArgs, { stdin: 'ignore', buffer: false, reject: false, env });
      let stderr = '';
      child.stderr?.on('data', (chunk: Buffer) => {
        stderr = (stderr + chunk.toString()).slice(-STDERR_KEEP);
      });
      if (child.stdout) createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', onLine);
      const exited = child.then(
        (r): ChildExit => ({ exitCode: r.exitCode, signal: r.signal, stderr: stderr || (r.exitCode === undefined ? (r.message ?? '') : '') }),
        (error: unknown): ChildExit => ({ stderr: error instanceof Error ? error.message : String(error) }),
      );
      return { pid: child.pid, exited, kill: (signal = 'SIGTERM') => void child.kill(signal) };
    },
    async run(file, args, options = {}) {
      const command = [file, ...args].join(' ');
      const inputFd = options.input === undefined ? undefined : openInputFile(options.input);
      const result = await execa(file, args, {
        // A raw descriptor is handed to the child as-is (execa's typings only admit it narrowly).
        stdin: (inputFd ?? 'ignore') as 'ignore',
        timeout: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        reject: false,
        stripFinalNewline: false,
        env,
      }).finally(() => {
        if (inputFd !== undefined) closeSync(inputFd);
      });
      const stdout = typeof result.stdout === 'string' ? result.stdout : '';
      const stderr = typeof result.stderr === 'string' ? result.stderr : '';
      if (result.failed && result.exitCode === undefined) {
        const code = (result.cause as NodeJS.ErrnoException | undefined)?.code;
        if (code === 'ENOENT') throw new ExecError('not-found', command, undefined, `${file}: not installed`, { cause: result.cause });
        if (code === 'EACCES') throw new ExecError('permission', command, undefined, `${file}: permission denied`, { cause: result.cause });
        if (result.timedOut) throw new ExecError('timeout', command, undefined, `timed out after ${options.timeoutMs ?? DEFAULT_TIMEOUT_MS} ms`);
        throw new ExecError('failed', command, undefined, result.message ?? `killed by ${result.signal ?? "signal"}`, { cause: result.cause });
      }
      const exitCode = result.exitCode ?? 1;
      if (exitCode !== 0 && !options.allowFailure) throw classifyFailure(command, exitCode, stderr);
      return { stdout, stderr, exitCode };
    },
  };
}

let inputDir: string | undefined;
let inputSeq = 0;

/**
 * Stdin for a child is a descriptor of an unlinked private temp file, not a pipe: Node's stdio pipes are Unix
 * sockets, and `nft -f -` opens /dev/stdin by path, which fails on a socket (ENXIO).
 */
function openInputFile(input: string): number {
  inputDir ??= mkdtempSync(join(tmpdir(), 'tsfw-'));
  const file = join(inputDir, `stdin-${inputSeq++}`);
  writeFileSync(file, input, { mode: 0o600 });
  const fd = openSync(file, 'r');
  rmSync(file); // the open descriptor keeps the content readable; nothing is left behind
  return fd;
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
