import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { execa } from 'execa';
import type { ResultPromise } from 'execa';
import { createBackend } from '../../src/backends/select.js';
import { parseConfigText } from '../../src/config/parse.js';
import type { Config } from '../../src/config/schema.js';
import { discoverFacts } from '../../src/discovery/discover.js';
import { rulesetFor } from '../../src/profiles/load.js';
import type { DaemonState } from '../../src/reconcile/state-format.js';
import { TSFW_BIN } from './cli.js';
import type { Netns } from './netns.js';

/**
 * `tsfw daemon` as a real process inside a test namespace (the built CLI: run
 * `npx tsc -p tsconfig.build.json` first), with its own run directory for the lock and
 * state.json, its JSON log lines collected, and helpers to wait on them.
 */

export interface DaemonProcess {
  readonly pid: number;
  readonly runDir: string;
  /** Every JSON log line so far. */
  readonly logs: Record<string, unknown>[];
  readonly exited: Promise<number | undefined>;
  /** Lines on stderr that are not JSON (the CLI's one-line errors). */
  readonly raw: string[];
  state(): DaemonState | undefined;
  waitFor<T>(what: string, probe: () => T | undefined | false, ms?: number): Promise<T>;
  /** Sends a signal and (for TERM/INT) waits for the exit status. */
  signal(name: NodeJS.Signals): void;
  stop(): Promise<number | undefined>;
}

/** Environment for CLI runs that share the daemon's lock and state. */
export function cliEnv(runDir: string): Record<string, string> {
  return { TSFW_RUN_DIR: runDir, TSFW_NO_BUNDLE: '1' };
}

/** How to start a daemon beyond its config. */
export interface SpawnOptions {
  /**
   * A command (run inside the namespace) that execs the daemon's argv given after it, e.g. one
   * that mounts a small tmpfs at the run directory in a private mount namespace first; the
   * state file is then read through /proc/PID/root, so the daemon's own view counts.
   */
  readonly wrap?: readonly string[];
  /** A run dir shared with another daemon or kept across restarts (not removed by `stop`). */
  readonly runDir?: string;
}

/** Starts the daemon and waits until its first pass has succeeded (state.json `ready`). */
export async function startTsfwDaemon(ns: Netns, configPath: string, env: Record<string, string> = {}, options: SpawnOptions = {}): Promise<DaemonProcess> {
  const daemon = spawnTsfwDaemon(ns, configPath, env, options);
  // Its own first pass: a run dir reused from a killed daemon still holds that one's ready state.
  await daemon.waitFor('the first successful pass', () => daemon.state()?.ready && (options.wrap !== undefined || daemon.state()?.pid === daemon.pid), 30_000);
  return daemon;
}

/** Starts the daemon without waiting for anything (signals during start-up, a refused second daemon). */
export function spawnTsfwDaemon(ns: Netns, configPath: string, env: Record<string, string> = {}, options: SpawnOptions = {}): DaemonProcess {
  const runDir = options.runDir ?? mkdtempSync(join(tmpdir(), 'tsfw-run-'));
  const argv = [...(options.wrap ?? []), process.execPath, TSFW_BIN, 'daemon', '-c', configPath];
  const child: ResultPromise = execa('ip', ['netns', 'exec', ns.name, ...argv], {
    reject: false,
    buffer: false,
    // A stop that needs longer than this under load is still a stop, not a hang.
    forceKillAfterDelay: 20_000,
    env: { LC_ALL: 'C', TSFW_CONFIG: '', TSFW_MODE: '', TSFW_BACKEND: '', ...cliEnv(runDir), ...env },
  });
  const logs: Record<string, unknown>[] = [];
  const raw: string[] = [];
  if (child.stderr) {
    createInterface({ input: child.stderr }).on('line', (line) => {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        raw.push(line);
      }
    });
  }
  let exitSignal: string | undefined;
  const exited = child.then((r) => {
    exitSignal = r.signal;
    return r.exitCode;
  });
  let exitCode: number | undefined | null = null;
  void exited.then((code) => {
    exitCode = code;
  });
  const state = (): DaemonState | undefined => {
    try {
      const dir = options.wrap ? `/proc/${child.pid}/root${runDir}` : runDir;
      return JSON.parse(readFileSync(join(dir, 'state.json'), 'utf8')) as DaemonState;
    } catch {
      return undefined;
    }
  };
  const waitFor = async <T>(what: string, probe: () => T | undefined | false, ms = 10_000): Promise<T> => {
    const end = Date.now() + ms;
    for (;;) {
      const value = probe();
      if (value !== undefined && value !== false) return value;
      if (exitCode !== null) throw new Error(`daemon exited (${exitCode ?? exitSignal}) while waiting for ${what}\n${raw.join('\n')}\n${logs.map((l) => JSON.stringify(l)).join('\n')}`);
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}\n${raw.join('\n')}\n${logs.slice(-20).map((l) => JSON.stringify(l)).join('\n')}`);
      await new Promise((r) => setTimeout(r, 5));
    }
  };
  const daemon: DaemonProcess = {
    pid: child.pid!,
    runDir,
    logs,
    exited,
    raw,
    state,
    waitFor,
    // process.kill, not execa's kill: that would also SIGKILL 5 s after every SIGTERM.
    signal: (name) => {
      try {
        process.kill(child.pid!, name);
      } catch {
        // already gone
      }
    },
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (!options.runDir) rmSync(runDir, { recursive: true, force: true });
      return code;
    },
  };
  return daemon;
}

/** The config object the daemon reads from this YAML (for the in-process observer). */
export function configOf(yamlText: string): Config {
  return parseConfigText(yamlText, 'test').config;
}

/** Observe + plan with the in-process backend: true when nothing differs from `config`. */
export async function isConverged(ns: Netns, config: Config): Promise<boolean> {
  const backend = createBackend(config.backend === 'auto' ? 'nftables' : config.backend, config, ns.runner);
  // Addresses are read inside the namespace; no tailscaled runs in these tests: the fallback port.
  const noProc = { readdir: () => [], readFile: () => '', readlink: () => '' };
  const facts = await discoverFacts(config, { runner: ns.runner, procFs: noProc });
  const plan = backend.plan(rulesetFor(config, config.mode, facts), await backend.observe());
  return plan.ops.length === 0;
}

/** nft's listing of tsfw's table without handles and counters, chains sorted, for exact comparisons. */
export async function tableText(ns: Netns, table = 'tsfw'): Promise<string> {
  const r = await ns.exec('nft', ['list', 'table', 'inet', table], { reject: false });
  if (r.exitCode !== 0) return '<absent>';
  const text = r.stdout.replace(/counter packets \d+ bytes \d+/g, 'counter').replace(/ # handle \d+/g, '');
  // Chains are listed in creation order, which a repair changes and which means nothing; rules
  // keep their order inside each chain.
  const chains = (text.match(/\tchain [^\n]+ \{\n[\s\S]*?\n\t\}/g) ?? []).sort();
  return `${text.split('\n', 1)[0]}\n${chains.join('\n\n')}\n}`;
}

/** Median of a list of numbers. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
