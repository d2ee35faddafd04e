import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The one-file CLI that bin/load.cjs runs through vm.Script (`make build` writes it before the
 * e2e suite). A script compiled that way has no dynamic import callback: any `import()` left in
 * the bundle throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING on the path that reaches it (it did,
 * for node:crypto in the firewalld integration), so scripts/bundle.mjs turns them into requires.
 */
const BUNDLE = fileURLToPath(new URL('../../dist/bundle/tsfw.cjs', import.meta.url));
const LIBS = fileURLToPath(new URL('../../dist/bundle/tsfw-libs.cjs', import.meta.url));
const LOAD = fileURLToPath(new URL('../../bin/load.cjs', import.meta.url));

/** Runs the CLI with ARGV through bin/load.cjs and reports which bundles it compiled. */
function compiledBy(argv: string[]): { files: string[]; code: number } {
  const probe = `const l = require(${JSON.stringify(LOAD)});
process.stdout.write = () => true;
l.loadCli().then((cli) => cli.run(${JSON.stringify(argv)})).then((code) => {
  require('node:fs').writeSync(2, JSON.stringify({ files: l.compiledScripts().map(([f]) => f), code }) + '\\n');
});`;
  const r = spawnSync(process.execPath, ['-e', probe], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' } });
  return JSON.parse(r.stderr.trim().split('\n').at(-1)!) as { files: string[]; code: number };
}

describe('dist/bundle/tsfw.cjs', () => {
  it('has no dynamic import() left (vm.Script cannot run one)', () => {
    for (const file of [BUNDLE, LIBS]) {
      const source = readFileSync(file, 'utf8');
      expect(source.length, file).toBeGreaterThan(100_000);
      expect(source.match(/\bimport\(\s*["'`]/g) ?? [], file).toEqual([]);
    }
  });

  it('compiles the libraries bundle (zod, YAML, prom-client, node-cron) only for a run that uses one', () => {
    expect(compiledBy(['--help'])).toEqual({ files: [BUNDLE], code: 0 });
    const dir = mkdtempSync(join(tmpdir(), 'tsfw-bundle-test-'));
    try {
      writeFileSync(join(dir, 'config.yaml'), 'backend: nftables\n');
      expect(compiledBy(['validate', '-c', join(dir, 'config.yaml')])).toEqual({ files: [BUNDLE, LIBS], code: 0 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
