import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/ansible.js';
import { TSFW_BIN } from '../helpers/cli.js';

/**
 * The npm package as a user gets it: `npm pack` in the checkout (after the build), then
 * `npm install -g` of that tarball into a temporary prefix (runtime dependencies come from the
 * npm registry), then the installed `tsfw` run from outside the checkout. Rendering touches no
 * firewall, so nothing here needs a namespace.
 */

interface PackReport {
  readonly filename: string;
  readonly files: readonly { readonly path: string }[];
}

const pkg = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as {
  name: string;
  version: string;
  dependencies: Record<string, string>;
  devDependencies: Record<string, string>;
};
/** No config file and no overrides, so both copies render the embedded defaults. */
const CLEAN_ENV = { LC_ALL: 'C', TSFW_CONFIG: '', TSFW_MODE: '', TSFW_BACKEND: '' };

describe('npm package (pack, global install into a temp prefix)', { timeout: 300_000 }, () => {
  let dir: string;
  let prefix: string;
  let packed: PackReport;
  let installedBin: string;
  let installedRoot: string;

  beforeAll(async () => {
    expect(existsSync(join(REPO_ROOT, 'dist', 'cli', 'main.js')), 'run `npx tsc -p tsconfig.build.json` first').toBe(true);
    dir = mkdtempSync(join(tmpdir(), 'tsfw-npm-'));
    prefix = join(dir, 'prefix');
    // --ignore-scripts: the build already ran (prepack would rebuild dist/ in the shared tree).
    const pack = await execa('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], {
      cwd: REPO_ROOT,
      timeout: 120_000,
    });
    const reports = JSON.parse(String(pack.stdout)) as PackReport[];
    packed = reports[0] as PackReport;
    const install = await execa('npm', [
      'install', '--global', '--prefix', prefix, '--no-audit', '--no-fund', join(dir, packed.filename),
    ], { cwd: dir, timeout: 240_000, reject: false, all: true });
    expect(install.exitCode, String(install.all)).toBe(0);
    installedBin = join(prefix, 'bin', 'tsfw');
    installedRoot = join(prefix, 'lib', 'node_modules', pkg.name);
  }, 300_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('ships the CLI, rules, systemd unit, docs and Ansible role, and no sources, tests or dev files', () => {
    const paths = packed.files.map((f) => f.path);
    for (const wanted of [
      'package.json', 'README.md', 'bin/tsfw', 'bin/load.cjs', 'bin/package.json', 'dist/cli/main.js', 'rules/tailscale.yaml',
      'systemd/tsfw.service', 'docs/install.md', 'ansible/roles/tsfw/tasks/main.yml',
    ]) {
      expect(paths, wanted).toContain(wanted);
    }
    const unwanted = paths.filter((p) =>
      /^(src|test|bench|scripts|node_modules|coverage|\.ci)\//.test(p)
      || /\.test\.|\.spec\.|\.ts$|\.tgz$/.test(p)
      || /^(Makefile|Dockerfile|\.dockerignore|tsconfig.*\.json|vitest\.config\.ts|eslint\.config\.js|package-lock\.json)$/.test(p)
      || p.startsWith('dist/backends/fake/'));
    expect(unwanted).toEqual([]);
  });

  it('installs production dependencies only', () => {
    const deps = readdirSync(join(installedRoot, 'node_modules'));
    for (const dep of Object.keys(pkg.dependencies)) expect(deps, dep).toContain(dep);
    for (const dev of Object.keys(pkg.devDependencies)) expect(deps, dev).not.toContain(dev);
  });

  it('the installed tsfw reports the package version', async () => {
    const r = await execa(installedBin, ['--version'], { cwd: dir, env: CLEAN_ENV, extendEnv: true });
    expect(r.stdout.trim()).toBe(pkg.version);
  });

  it('the installed tsfw renders the same default ruleset as the checkout', async () => {
    for (const args of [['render'], ['render', '--json'], ['render', '--backend', 'iptables-nft'], ['validate']]) {
      const installed = await execa(installedBin, args, { cwd: dir, env: CLEAN_ENV, reject: false });
      const checkout = await execa(process.execPath, [TSFW_BIN, ...args], { cwd: dir, env: CLEAN_ENV, reject: false });
      expect(installed.exitCode, `${args.join(' ')}: ${installed.stderr}`).toBe(0);
      expect(checkout.exitCode, `${args.join(' ')}: ${checkout.stderr}`).toBe(0);
      expect(installed.stdout, args.join(' ')).toBe(checkout.stdout);
    }
    const text = await execa(installedBin, ['render'], { cwd: dir, env: CLEAN_ENV });
    expect(text.stdout).toContain('table inet tsfw {');
    expect(text.stdout).toContain('chain ts-input {');
    expect(text.stdout).toContain('masquerade');
  });
});
