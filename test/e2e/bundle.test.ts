import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

/**
 * The one-file CLI that bin/load.cjs runs through vm.Script (`make build` writes it before the
 * e2e suite). A script compiled that way has no dynamic import callback: any `import()` left in
 * the bundle throws ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING on the path that reaches it (it did,
 * for node:crypto in the firewalld integration), so scripts/bundle.mjs turns them into requires.
 */
const BUNDLE = fileURLToPath(new URL('../../dist/bundle/tsfw.cjs', import.meta.url));

describe('dist/bundle/tsfw.cjs', () => {
  it('has no dynamic import() left (vm.Script cannot run one)', () => {
    const source = readFileSync(BUNDLE, 'utf8');
    expect(source.length).toBeGreaterThan(100_000);
    expect(source.match(/\bimport\(\s*["'`]/g) ?? []).toEqual([]);
  });
});
