import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

/**
 * docs/PERFORMANCE.md, "CLI start-up": esbuild initialises a bundled module on its first import,
 * so zod and YAML cost a CLI run nothing as long as no module reaches them through a static
 * import from the entry (they are imported where they run: a config memo miss, validate, render,
 * cleanup, apply --mode). A static import added anywhere on the way fails here, naming the chain.
 * The bundle goes one step further and keeps them in a file of their own (scripts/bundle.mjs).
 */
async function staticChains(entry: string, prefix: string): Promise<string[]> {
  const result = await build({
    entryPoints: [entry], bundle: true, platform: 'node', format: 'cjs', write: false, metafile: true, logLevel: 'silent', outfile: 'out.cjs',
  });
  const inputs = result.metafile.inputs;
  const parent = new Map<string, string | undefined>([[entry, undefined]]);
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.shift()!;
    for (const imp of inputs[file]?.imports ?? []) {
      if (imp.kind !== 'import-statement' || imp.external || parent.has(imp.path)) continue;
      parent.set(imp.path, file);
      queue.push(imp.path);
    }
  }
  return [...parent.keys()].filter((f) => f.startsWith(prefix)).slice(0, 1).map((hit) => {
    const chain: string[] = [];
    for (let at: string | undefined = hit; at !== undefined; at = parent.get(at)) chain.unshift(at);
    return chain.join(' -> ');
  });
}

describe('the CLI start-up graph', () => {
  it('reaches neither zod nor yaml through static imports', async () => {
    expect(await staticChains('src/cli/main.ts', 'node_modules/zod/')).toEqual([]);
    expect(await staticChains('src/cli/main.ts', 'node_modules/yaml/')).toEqual([]);
  }, 30_000);

  // scripts/bundle.mjs puts these in tsfw-libs.cjs with zod and YAML: a static import of either
  // would compile that whole bundle on every run.
  it('reaches neither prom-client nor node-cron through static imports', async () => {
    expect(await staticChains('src/cli/main.ts', 'node_modules/prom-client/')).toEqual([]);
    expect(await staticChains('src/cli/main.ts', 'node_modules/node-cron/')).toEqual([]);
  }, 30_000);

  it('the walk itself finds what is imported statically', async () => {
    expect((await staticChains('src/cli/main.ts', 'node_modules/commander/'))[0]).toMatch(/^src\/cli\/main\.ts -> node_modules\/commander\//);
    expect((await staticChains('src/config/load.ts', 'node_modules/zod/'))[0]).toMatch(/src\/config\/parse\.ts -> src\/config\/schema\.ts -> node_modules\/zod\//);
  }, 30_000);
});
