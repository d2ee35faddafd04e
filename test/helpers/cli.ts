import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { stringify } from 'yaml';
import type { DriftItem, ObjectStatus, PlannedAction, ProcessWrite } from '../../src/backends/types.js';
import type { ConfigInput } from '../../src/config/schema.js';
import type { Netns } from './netns.js';

/**
 * The built CLI (`bin/tsfw`, which imports dist/: run `npx tsc -p tsconfig.build.json` first),
 * run as a real process inside a test namespace, exactly as an operator would run it.
 */

/** The launcher at the package root. */
export const TSFW_BIN = fileURLToPath(new URL('../../bin/tsfw', import.meta.url));

/**
 * The run directory (lock, state, backend marker, memos) of every CLI run of the e2e tests: a
 * private one, never the host's /run/tsfw. A test passes TSFW_RUN_DIR itself to share a daemon's.
 */
const RUN_DIR = privateRunDir();

/** One per test process (the e2e files share a fork and each imports this module afresh). */
function privateRunDir(): string {
  const shared = globalThis as { tsfwE2eRunDir?: string };
  if (shared.tsfwE2eRunDir === undefined) {
    const dir = mkdtempSync(join(tmpdir(), 'tsfw-e2e-run-'));
    process.once('exit', () => rmSync(dir, { recursive: true, force: true }));
    shared.tsfwE2eRunDir = dir;
  }
  return shared.tsfwE2eRunDir;
}

/** What one CLI run printed; `json` is stdout parsed when `--json` was given and it parses. */
export interface CliRun<J = unknown> {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly json: J | undefined;
}

/** The `--json` object of apply / reconcile / cleanup. */
export interface ConvergeReport {
  readonly changed: boolean;
  readonly dryRun: boolean;
  readonly mode: string;
  readonly backend: string;
  readonly actions: readonly PlannedAction[];
  readonly writes: readonly ProcessWrite[];
  readonly sysctls: readonly { key: string; from: string; to: string; reason: string }[];
  readonly integrations: readonly { manager: string; op: 'add' | 'remove'; kind: string; value: string; permanent: boolean }[];
  readonly drift: readonly DriftItem[];
  readonly warnings: readonly string[];
  readonly durationMs: number;
}

/** The `--json` object of status. */
export interface StatusReport {
  readonly mode: string;
  readonly backend: string;
  readonly converged: boolean;
  readonly objects: readonly ObjectStatus[];
  readonly drift: readonly DriftItem[];
  readonly warnings: readonly string[];
}

/** Runs `node bin/tsfw ARGS` inside `ns`; never throws on a non-zero exit (tests assert it). */
export function tsfw<J = unknown>(ns: Netns, args: readonly string[], env: Record<string, string> = {}): Promise<CliRun<J>> {
  return tsfwVia(['ip', 'netns', 'exec', ns.name], args, env);
}

/** Runs the CLI behind an argv prefix that enters the namespaces (e.g. ufw.ts's nsenter). */
export async function tsfwVia<J = unknown>(prefix: readonly string[], args: readonly string[], env: Record<string, string> = {}): Promise<CliRun<J>> {
  const r = await execa(prefix[0]!, [...prefix.slice(1), process.execPath, TSFW_BIN, ...args], {
    reject: false,
    env: { LC_ALL: 'C', TSFW_CONFIG: '', TSFW_MODE: '', TSFW_BACKEND: '', TSFW_RUN_DIR: RUN_DIR, ...env },
    timeout: 60_000,
  });
  const stdout = String(r.stdout);
  let json: J | undefined;
  if (args.includes('--json')) {
    try {
      json = JSON.parse(stdout) as J;
    } catch {
      json = undefined;
    }
  }
  return { exitCode: r.exitCode ?? 1, stdout, stderr: String(r.stderr), json };
}

/** Like `tsfw`, but insists on exit 0 and JSON output, and says what went wrong otherwise. */
export async function tsfwJson<J>(ns: Netns, args: readonly string[], env: Record<string, string> = {}): Promise<J> {
  const run = await tsfw<J>(ns, [...args, '--json'], env);
  if (run.exitCode !== 0 || run.json === undefined) {
    throw new Error(`tsfw ${args.join(' ')} exited ${run.exitCode}\nstdout: ${run.stdout}\nstderr: ${run.stderr}`);
  }
  return run.json;
}

/** A config file in a private temp directory; `remove` deletes the directory. */
export interface TempConfig {
  readonly path: string;
  /** Rewrites the file with another config. */
  write(config: ConfigInput): void;
  remove(): void;
}

/** Writes `config` as YAML to a fresh temp file (the CLI may rewrite its `mode` key). */
export function tempConfig(config: ConfigInput): TempConfig {
  const dir = mkdtempSync(join(tmpdir(), 'tsfw-cfg-'));
  const path = join(dir, 'config.yaml');
  const write = (c: ConfigInput) => writeFileSync(path, stringify(c));
  write(config);
  return { path, write, remove: () => rmSync(dir, { recursive: true, force: true }) };
}
