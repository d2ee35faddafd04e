// Shared pieces of the benchmarks: throwaway network namespaces, the machine description, stats,
// result files. Benchmarks spawn programs directly (they are not part of src/).
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, freemem, loadavg, tmpdir, totalmem } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = dirname(dirname(dirname(fileURLToPath(import.meta.url))));
export const TSFW_BIN = join(ROOT, 'bin', 'tsfw');

/**
 * The environment systemd/tsfw.service gives the daemon (its `Environment=` lines, e.g. V8's heap
 * setting in NODE_OPTIONS), so the daemon benchmarks measure the daemon as shipped.
 */
export const SHIPPED_DAEMON_ENV = Object.fromEntries(
  [...readFileSync(join(ROOT, 'systemd', 'tsfw.service'), 'utf8').matchAll(/^Environment="?([A-Z_]+)=(.*?)"?$/gm)].map((m) => [m[1], m[2]]),
);
export const MEASURE = join(ROOT, 'bench', 'lib', 'measure.mjs');
export const RESULTS_DIR = join(ROOT, 'bench', 'results');

const namespaces = new Set();
const tempDirs = new Set();

function cleanup() {
  for (const ns of namespaces) {
    // Anything still running inside (daemons, monitors) dies with the namespace.
    const pids = spawnSync('ip', ['netns', 'pids', ns], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
    if (pids.length > 0) spawnSync('kill', ['-9', ...pids]);
    spawnSync('ip', ['netns', 'del', ns]);
  }
  namespaces.clear();
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
process.on('exit', cleanup);
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) {
  process.on(signal, () => {
    cleanup();
    process.exit(130);
  });
}

// Every tsfw the benchmarks start keeps its lock and state in a private directory, and reads no
// mode or backend from the caller's environment.
process.env.TSFW_RUN_DIR = tempDir('tsfw-bench-run-');
for (const key of ['TSFW_CONFIG', 'TSFW_MODE', 'TSFW_BACKEND', 'TSFW_NO_BUNDLE']) delete process.env[key];

/** A fresh, empty network namespace with a random name; removed at exit, also on failure. */
export function createNetns(prefix = 'tsfwbench') {
  const name = `${prefix}-${randomBytes(3).toString('hex')}`;
  execFileSync('ip', ['netns', 'add', name]);
  namespaces.add(name);
  run(name, ['ip', 'link', 'set', 'lo', 'up']);
  return name;
}

export function deleteNetns(name) {
  const pids = spawnSync('ip', ['netns', 'pids', name], { encoding: 'utf8' }).stdout?.split('\n').filter(Boolean) ?? [];
  if (pids.length > 0) spawnSync('kill', ['-9', ...pids]);
  spawnSync('ip', ['netns', 'del', name]);
  namespaces.delete(name);
}

/** Runs argv inside the namespace; throws with stderr on a non-zero exit unless allowFail. */
export function run(ns, argv, { input, env, allowFail = false } = {}) {
  const r = spawnSync('ip', ['netns', 'exec', ns, ...argv], {
    input,
    encoding: 'utf8',
    maxBuffer: 256 * 1024 * 1024,
    env: { ...process.env, LC_ALL: 'C', ...env },
  });
  if (r.status !== 0 && !allowFail) {
    throw new Error(`in ${ns}: ${argv.join(' ')} exited ${r.status}\n${r.stderr}`);
  }
  return { stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** `node bin/tsfw ARGS` inside the namespace. */
export function tsfw(ns, args, options = {}) {
  return run(ns, [process.execPath, TSFW_BIN, ...args], options);
}

/** A private temp directory, removed at exit. */
export function tempDir(prefix = 'tsfw-bench-') {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.add(dir);
  return dir;
}

/** Writes a config file (JSON is valid YAML) in a private temp dir and returns its path. */
export function configFile(config) {
  const path = join(tempDir('tsfw-bench-cfg-'), 'config.yaml');
  writeFileSync(path, `${JSON.stringify(config, null, 2)}\n`);
  return path;
}

/**
 * Runs bench/lib/measure.mjs inside the namespace, so the timed commands start there directly
 * (no `ip netns exec` in the measured path). Returns its JSON report.
 */
export function measureIn(ns, spec) {
  const specFile = join(tempDir('tsfw-bench-spec-'), 'spec.json');
  writeFileSync(specFile, JSON.stringify(spec));
  const r = run(ns, [process.execPath, MEASURE, specFile]);
  return JSON.parse(r.stdout);
}

/** Median, p99 and friends of a list of numbers (nearest-rank percentiles). */
export function stats(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const pct = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))];
  const mean = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { n: sorted.length, min: sorted[0], median: pct(50), mean, p90: pct(90), p99: pct(99), max: sorted.at(-1) };
}

function firstLine(argv) {
  const r = spawnSync(argv[0], argv.slice(1), { encoding: 'utf8' });
  return (r.stdout || r.stderr || '').split('\n')[0].trim() || 'not available';
}

/** What the figures were measured on. */
export function machine() {
  const memKiB = Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0);
  return {
    nproc: Number(firstLine(['nproc'])),
    cpu: cpus()[0]?.model ?? 'unknown',
    memoryMiB: Math.round(memKiB / 1024) || Math.round(totalmem() / 2 ** 20),
    freeMemoryMiB: Math.round(freemem() / 2 ** 20),
    kernel: firstLine(['uname', '-r']),
    node: process.version,
    nft: firstLine(['nft', '--version']),
    iptables: firstLine(['iptables', '--version']),
    loadavg: loadavg().map((l) => Number(l.toFixed(2))),
    date: new Date().toISOString(),
  };
}

/** Whether bin/tsfw will run the bundled build with its code cache (printed with every result). */
export function cliForm() {
  const probe = `import { loadBundle } from ${JSON.stringify(join(ROOT, 'bin', 'load.cjs'))};
const b = loadBundle();
console.log(JSON.stringify(b ? { form: 'bundle', codeCache: b.script.cachedDataRejected === false ? 'accepted' : b.script.cachedDataRejected === true ? 'rejected' : 'none' } : { form: 'modules' }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', probe], {
    encoding: 'utf8',
    env: { ...process.env, PATH: '/nonexistent' },
  });
  try {
    return JSON.parse(r.stdout.trim().split('\n').at(-1));
  } catch {
    return { form: 'unknown', error: r.stderr.trim().split('\n')[0] };
  }
}

/** Writes bench/results/NAME.json (the source of docs/PERFORMANCE.md) and says where. */
export function saveResult(name, result) {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = join(RESULTS_DIR, `${name}.json`);
  writeFileSync(file, `${JSON.stringify(result, null, 2)}\n`);
  console.log(`\nresult written to ${file}`);
}

export const ms = (v) => `${v.toFixed(1)} ms`;
export const ratio = (a, b) => Number((a / b).toFixed(2));

/** One line per target: the measured value, the limit, met or NOT MET. */
export function verdict(label, value, limit, unit = '×') {
  const met = value <= limit;
  console.log(`  ${met ? 'met    ' : 'NOT MET'}  ${label}: ${value}${unit} (target ≤ ${limit}${unit})`);
  return { label, value, limit, unit, met };
}

/** The command line that reproduces this run, for the report. */
export function commandLine() {
  return `node ${process.argv.slice(1).map((a) => a.replace(`${ROOT}/`, '')).join(' ')}`;
}

/**
 * Runs argv in the namespace with logging shims for `tools` first on PATH, and returns the
 * command lines of those tools it started, in order (what a tsfw pass really reads, not assumed).
 */
export function recordCommands(ns, argv, tools) {
  const dir = tempDir('tsfw-bench-shims-');
  const logFile = join(dir, 'log');
  writeFileSync(logFile, '');
  for (const tool of tools) {
    const real = execFileSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' }).trim();
    writeFileSync(join(dir, tool), `#!/bin/sh\nprintf '%s\\0' "${tool}" "$@" >> '${logFile}'; printf '\\n' >> '${logFile}'\nexec '${real}' "$@"\n`, { mode: 0o755 });
  }
  run(ns, argv, { env: { PATH: `${dir}:${process.env.PATH}` } });
  return readFileSync(logFile, 'utf8').split('\n').filter(Boolean).map((line) => line.split('\0').filter((a, i, all) => i < all.length - 1 || a !== ''));
}
