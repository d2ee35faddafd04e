import { chmodSync, chownSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TSFW_BIN } from '../helpers/cli.js';
import { startTsfwDaemon } from '../helpers/daemon.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * Root never writes through a planted symlink. An unprivileged user (nobody) owns the metrics
 * textfile directory and the config's directory (as node_exporter's user often owns the first)
 * and, right before each tsfw process starts, plants symlinks to root's files at every name that
 * process could use: the temp names older tsfw used (`<name>.<pid>.tmp`, with the exact pid the
 * process will have), and the final names. Every CLI command and the daemon run under umask 000.
 * Afterwards no root file was written, tsfw's own files are regular files with the documented
 * modes, and a run directory owned by that user is refused with one line naming it.
 */

const NOBODY = 65534;
const OK_FILES = new Set(['tsfw.prom', 'config.yaml']);

interface Layout {
  readonly base: string;
  readonly victims: string;
  readonly textfile: string;
  readonly confDir: string;
  readonly config: string;
  readonly hostileRun: string;
  readonly run: string;
}

/** The planter, run as nobody with the pid of the tsfw process about to start. */
const PLANT = `
const fs = require('node:fs');
const [pid, victims, textfile, confDir, hostileRun] = process.argv.slice(1);
const plant = (dir, name, target) => {
  try { fs.rmSync(dir + '/' + name, { force: true, recursive: false }); } catch {}
  try { fs.symlinkSync(target, dir + '/' + name); } catch {}
};
let n = 0;
for (const name of ['.tsfw.prom.' + pid + '.tmp', 'tsfw.prom.' + pid + '.tmp']) plant(textfile, name, victims + '/v' + (n++));
if (!fs.lstatSync(textfile + '/tsfw.prom', { throwIfNoEntry: false })?.isFile()) plant(textfile, 'tsfw.prom', victims + '/v' + (n++)); else n++;
for (const name of ['config.yaml.tsfw-' + pid + '.tmp', '.config.yaml.' + pid + '.tmp']) plant(confDir, name, victims + '/v' + (n++));
for (const name of ['state.json.' + pid + '.tmp', 'backend.json.' + pid + '.tmp', 'state.json', 'backend.json', 'lock.new-' + pid]) plant(hostileRun, name, victims + '/v' + (n++));
plant(hostileRun, 'lock', victims);
`;

const VICTIMS = 12;

function layout(): Layout {
  const base = mkdtempSync(join(tmpdir(), 'tsfw-plant-'));
  chmodSync(base, 0o755);
  const victims = join(base, 'victims');
  mkdirSync(victims, { mode: 0o755 });
  for (let i = 0; i < VICTIMS; i++) writeFileSync(join(victims, `v${i}`), `precious ${i}\n`, { mode: 0o600 });
  const owned = (name: string) => {
    const dir = join(base, name);
    mkdirSync(dir, { mode: 0o755 });
    chownSync(dir, NOBODY, NOBODY);
    return dir;
  };
  const textfile = owned('textfile');
  const confDir = owned('conf');
  const hostileRun = owned('hostile-run');
  const config = join(confDir, 'config.yaml');
  writeFileSync(config, `# the admin's config\nbackend: nftables\nmode: on\nmetrics:\n  textfile: ${join(textfile, 'tsfw.prom')}\nreconcile:\n  schedule: "*/1 * * * * *"\n`, { mode: 0o640 });
  chownSync(config, NOBODY, NOBODY);
  return { base, victims, textfile, confDir, config, hostileRun, run: join(base, 'run', 'tsfw') };
}

/** `sh -c` prefix: umask 000, plant for this very pid (the shell execs tsfw), then exec. */
function wrapper(l: Layout): string[] {
  const plant = `setpriv --reuid=${NOBODY} --regid=${NOBODY} --clear-groups ${process.execPath} -e "$PLANT" "$$" ${l.victims} ${l.textfile} ${l.confDir} ${l.hostileRun}`;
  return ['sh', '-c', `umask 000; ${plant}; exec "$@"`, 'sh'];
}

function victimsIntact(l: Layout): void {
  for (let i = 0; i < VICTIMS; i++) {
    const file = join(l.victims, `v${i}`);
    expect(readFileSync(file, 'utf8'), file).toBe(`precious ${i}\n`);
    expect(statSync(file).mode & 0o7777, file).toBe(0o600);
  }
  expect(readdirSync(l.victims).sort()).toEqual(Array.from({ length: VICTIMS }, (_, i) => `v${i}`).sort());
}

/** In the directories nobody owns, tsfw left nothing but its own regular files (or nothing). */
function onlyOwnFiles(dir: string): void {
  for (const name of readdirSync(dir)) {
    const s = lstatSync(join(dir, name));
    if (s.isSymbolicLink()) continue; // the planter's own links, never followed
    expect(OK_FILES.has(name), `${dir}/${name} should not exist`).toBe(true);
    expect(s.isFile()).toBe(true);
  }
}

describe('planted symlinks: root never writes through them; files get their documented modes under umask 000', () => {
  let ns: Netns;
  let l: Layout;

  const run = async (args: readonly string[], runDir: string) => {
    const r = await execa('ip', ['netns', 'exec', ns.name, ...wrapper(l), process.execPath, TSFW_BIN, ...args], {
      reject: false,
      env: { LC_ALL: 'C', TSFW_CONFIG: '', TSFW_MODE: '', TSFW_BACKEND: '', TSFW_RUN_DIR: runDir, TSFW_NO_BUNDLE: '1', PLANT },
      timeout: 60_000,
    });
    return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  beforeAll(async () => {
    ns = await createNetns('tsfwp');
    l = layout();
  });
  afterAll(async () => {
    await ns?.destroy();
    rmSync(l.base, { recursive: true, force: true });
  });

  it('every CLI command with a trusted run directory', async () => {
    const commands: [string[], number[]][] = [
      [['validate', '-c', l.config], [0]],
      [['render', '-c', l.config], [0]],
      [['apply', '-c', l.config], [0]],
      [['apply', '--mode', 'nodivert', '-c', l.config], [0]],
      [['reconcile', '-c', l.config], [0]],
      [['status', '-c', l.config], [0]],
      [['doctor', '-c', l.config], [0, 1]],
      [['explain', '--src', '100.64.0.9', '--dst', '192.0.2.1', '--iif', 'lan0', '-c', l.config], [0]],
      [['metrics', '--textfile', join(l.textfile, 'tsfw.prom'), '-c', l.config], [0]],
      [['apply', '--mode', 'on', '-c', l.config], [0]],
      [['cleanup', '-c', l.config], [0]],
    ];
    for (const [args, codes] of commands) {
      const r = await run(args, l.run);
      expect(codes, `${args.join(' ')}: ${r.stderr}`).toContain(r.code);
      victimsIntact(l);
      onlyOwnFiles(l.textfile);
      onlyOwnFiles(l.confDir);
    }
    // tsfw's own files, created under umask 000: run directories 0755, state and marker 0644.
    expect(statSync(join(l.base, 'run')).mode & 0o7777).toBe(0o755);
    expect(statSync(l.run).mode & 0o7777).toBe(0o755);
    expect(statSync(join(l.run, 'backend.json')).mode & 0o7777).toBe(0o644);
    expect(readdirSync(l.run)).toEqual(['backend.json']);
    const prom = lstatSync(join(l.textfile, 'tsfw.prom'));
    expect([prom.isFile(), prom.mode & 0o7777, prom.uid]).toEqual([true, 0o644, 0]);
    // The admin's config: only the mode changed (twice), its mode and owner kept.
    const config = statSync(l.config);
    expect([config.mode & 0o7777, config.uid, config.gid]).toEqual([0o640, NOBODY, NOBODY]);
    expect(readFileSync(l.config, 'utf8')).toMatch(/^# the admin's config\nbackend: nftables\nmode: on\nmetrics:/);
  });

  it('a run directory owned by another user is refused with one line naming it; nothing is written', async () => {
    for (const args of [['apply', '-c', l.config], ['reconcile', '-c', l.config], ['cleanup', '-c', l.config], ['apply', '--mode', 'off', '-c', l.config], ['daemon', '-c', l.config]]) {
      const r = await run(args, l.hostileRun);
      expect(r.code, args.join(' ')).toBe(1);
      expect(r.stderr.trim(), args.join(' ')).toBe(`tsfw: run directory ${l.hostileRun}: is owned by uid ${NOBODY}, not root: refusing to use it`);
      victimsIntact(l);
    }
    expect(readFileSync(l.config, 'utf8')).toContain('mode: on\n');
    // A run directory that is a file: one line, not a raw EEXIST.
    const file = join(l.victims, 'v0');
    const r = await run(['reconcile', '-c', l.config], file);
    expect([r.code, r.stderr.trim()]).toEqual([1, `tsfw: run directory ${file}: not a directory`]);
    victimsIntact(l);
  });

  it('the daemon, for several passes, with the textfile in a directory nobody owns', async () => {
    const runDir = join(l.base, 'daemon-run');
    const d = await startTsfwDaemon(ns, l.config, { PLANT }, { wrap: wrapper(l), runDir });
    try {
      await d.waitFor('three passes', () => (d.state()?.passes.total ?? 0) >= 3);
      await d.waitFor('the textfile', () => lstatSync(join(l.textfile, 'tsfw.prom'), { throwIfNoEntry: false })?.isFile());
      expect(statSync(join(runDir, 'state.json')).mode & 0o7777).toBe(0o644);
      expect(statSync(runDir).mode & 0o7777).toBe(0o755);
    } finally {
      expect(await d.stop()).toBe(0);
    }
    victimsIntact(l);
    onlyOwnFiles(l.textfile);
    onlyOwnFiles(l.confDir);
    const prom = lstatSync(join(l.textfile, 'tsfw.prom'));
    expect([prom.isFile(), prom.mode & 0o7777]).toEqual([true, 0o644]);
  });
});
