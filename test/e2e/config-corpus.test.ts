import { existsSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { badConfigs } from '../helpers/bad-configs.js';
import { createNetns } from '../helpers/netns.js';
import type { Netns } from '../helpers/netns.js';

/**
 * The built CLI refuses every malformed config: exit 78, at most 6 stderr lines naming the key, no
 * stack trace, and the namespace's ruleset (with someone else's tables in it) byte-identical.
 */

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const TSFW = `${ROOT}bin/tsfw`;

/** Someone else's firewall, which a refused config must leave exactly as it is. */
const FOREIGN_RULESET = `table inet admin {
  set trusted { type ipv4_addr; elements = { 192.0.2.10, 192.0.2.11 }; }
  chain input { type filter hook input priority 0; policy accept; ip saddr @trusted tcp dport 22 counter accept; }
}
table ip nat {
  chain postrouting { type nat hook postrouting priority srcnat; policy accept; oifname "wan0" masquerade; }
}
`;

const corpus = badConfigs();

describe('CLI on the malformed-config corpus', () => {
  let ns: Netns;
  let before: string;

  const tsfw = async (args: readonly string[], env: Record<string, string> = {}) => {
    const r = await execa('ip', ['netns', 'exec', ns.name, 'node', TSFW, ...args], {
      reject: false,
      env: { LC_ALL: 'C', TSFW_CONFIG: '', ...env },
      extendEnv: false,
    });
    return { code: r.exitCode, stdout: String(r.stdout), stderr: String(r.stderr) };
  };

  beforeAll(async () => {
    // `make test` and `make e2e` build first. Not compiled again here: a tsc run in the middle of
    // the suite makes dist/cli newer than the bundle, and bin/load.cjs then runs every later test
    // on the per-module build instead of the bundle that ships.
    expect(existsSync(`${ROOT}dist/cli/main.js`), 'run `make build` first').toBe(true);
    ns = await createNetns('tsfwc');
    await ns.exec('nft', ['-f', '-'], { input: FOREIGN_RULESET });
    before = await ns.sh('nft list ruleset');
    expect(before).toContain('table inet admin');
  }, 120_000);

  afterAll(async () => {
    await ns?.destroy();
  });

  /** Exit 78, ≤ 6 lines, no stack, every line "tsfw: config: PATH: <matches>", ruleset untouched. */
  async function expectRefused(args: readonly string[], path: string, pattern: RegExp, env: Record<string, string> = {}) {
    const r = await tsfw(args, { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env });
    const lines = r.stderr.split('\n').filter((l) => l.length > 0);
    expect(r.code, r.stderr).toBe(78);
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.length).toBeLessThanOrEqual(6);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    for (const line of lines) {
      const prefix = `tsfw: config: ${path}: `;
      expect(line.startsWith(prefix), line).toBe(true);
      expect(line.slice(prefix.length)).toMatch(pattern);
    }
    expect(r.stdout).toBe('');
    expect(await ns.sh('nft list ruleset')).toBe(before);
  }

  it.concurrent.each(corpus.map((c) => [c.file, c] as const))('apply -c %s: exit 78, key named, ruleset unchanged', async (_file, c) => {
    await expectRefused(['apply', '-c', c.path], c.path, c.expect);
  });

  it.concurrent.each(corpus.map((c) => [c.file, c] as const))('validate -c %s: exit 78 likewise', async (_file, c) => {
    await expectRefused(['validate', '-c', c.path], c.path, c.expect);
  });

  it('a bad file named by $TSFW_CONFIG is refused the same way', async () => {
    const c = corpus.find((x) => x.file === 'cidr-host-bits.yaml')!;
    await expectRefused(['apply'], c.path, c.expect, { TSFW_CONFIG: c.path });
  });

  it('a missing -c file: exit 78, one line naming the file', async () => {
    const missing = `${ROOT}test/fixtures/bad-configs/does-not-exist.yaml`;
    await expectRefused(['apply', '-c', missing], missing, /^no such file \(named by -c\)$/);
    await expectRefused(['validate', '-c', missing], missing, /^no such file \(named by -c\)$/);
  });

  describe('config paths that are not regular files of sane size', () => {
    let dir: string;
    const paths: Record<string, { path: string; what: RegExp }> = {};

    beforeAll(async () => {
      dir = mkdtempSync(join(tmpdir(), 'tsfw-hostile-'));
      await execa('mkfifo', [join(dir, 'fifo.yaml')]);
      writeFileSync(join(dir, 'big.yaml'), 'mode: on\n');
      truncateSync(join(dir, 'big.yaml'), 50 * 1024 * 1024);
      paths['/dev/zero'] = { path: '/dev/zero', what: /^not a regular file \(a character device\)$/ };
      paths['a FIFO'] = { path: join(dir, 'fifo.yaml'), what: /^not a regular file \(a FIFO\)$/ };
      paths['a directory'] = { path: dir, what: /^not a regular file \(a directory\)$/ };
      paths['a 50 MB file'] = { path: join(dir, 'big.yaml'), what: /^too large \(52428800 bytes, limit 4194304\)$/ };
    });
    afterAll(() => rmSync(dir, { recursive: true, force: true }));

    for (const name of ['/dev/zero', 'a FIFO', 'a directory', 'a 50 MB file']) {
      it(`-c ${name}: exit 78 within 2 s naming the path, nothing applied`, async () => {
        const { path, what } = paths[name]!;
        for (const command of ['validate', 'apply', 'daemon']) {
          const started = performance.now();
          await expectRefused([command, '-c', path], path, what);
          // The refusal itself takes well under 2 s (src/fsx/fsx.test.ts); this bound also covers
          // `ip netns exec` and Node's start-up on a loaded 2-core CI machine.
          expect(performance.now() - started, command).toBeLessThan(5_000);
        }
      });
    }
  });

  it("-c '' is refused with one line instead of silently using the defaults", async () => {
    await expectRefused(['validate', '-c', ''], '-c', /^empty path: name a config file$/);
    await expectRefused(['apply', '-c', ''], '-c', /^empty path: name a config file$/);
  });

  it('--mode sideways is a usage error: exit 64, nothing applied', async () => {
    const r = await tsfw(['apply', '--mode', 'sideways'], { PATH: process.env.PATH ?? '/usr/bin:/bin' });
    expect(r.code).toBe(64);
    expect(r.stderr).toMatch(/sideways/);
    expect(r.stderr).not.toMatch(/^ {4}at /m);
    expect(await ns.sh('nft list ruleset')).toBe(before);
  });
});
