// Builds dist/bundle/tsfw.cjs (the whole CLI in one file, for start-up time) and its V8 code
// cache. Run by `make build` after tsc. bin/load.cjs explains how the two are used.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = dirname(dirname(fileURLToPath(import.meta.url)));
const OUT = join(ROOT, 'dist', 'bundle', 'tsfw.cjs');
const LIBS_OUT = join(ROOT, 'dist', 'bundle', 'tsfw-libs.cjs');

/**
 * The libraries a converged pass never calls (zod and YAML: a config or ruleset memo miss,
 * validate, render; prom-client and node-cron: the daemon) go into a bundle of their own,
 * tsfw-libs.cjs, which bin/load.cjs compiles (with its own code cache) the first time the CLI
 * imports one of them. Every other run compiles and evaluates 300 KiB less: esbuild sets up an
 * ES module's export object at bundle evaluation even when nothing imports it.
 */
const LIBS = ['zod', 'yaml', 'prom-client', 'node-cron'];
const separateLibs = {
  name: 'separate-libs',
  setup(b) {
    const filter = new RegExp(`^(${LIBS.map((l) => l.replace(/[.-]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (args) => ({ path: args.path, namespace: 'tsfw-lib' }));
    b.onLoad({ filter: /.*/, namespace: 'tsfw-lib' }, (args) => ({
      contents: `module.exports = __tsfwLib(${JSON.stringify(args.path)});`,
      loader: 'js',
    }));
  },
};

mkdirSync(dirname(OUT), { recursive: true });
for (const old of readdirSync(dirname(OUT))) rmSync(join(dirname(OUT), old));

/**
 * zod re-exports every message locale (`z.locales`, about a quarter of the bundle); tsfw only uses
 * English, which zod installs itself. The re-export is replaced by English alone, in zod's ES
 * module files and in its CommonJS ones (what `require('zod')` in the libraries bundle reads).
 */
const zodEnglishOnly = {
  name: 'zod-english-only',
  setup(b) {
    b.onResolve({ filter: /^\.\.\/locales\/index\.c?js$/ }, (args) =>
      args.importer.includes(`${join('node_modules', 'zod')}`) ? { path: join(dirname(args.importer), '..', 'locales', args.path.endsWith('.cjs') ? 'index.cjs' : 'index.js'), namespace: 'zod-locales' } : undefined);
    b.onLoad({ filter: /.*/, namespace: 'zod-locales' }, (args) => ({
      contents: args.path.endsWith('.cjs')
        ? `exports.en = require(${JSON.stringify(join(dirname(args.path), 'en.cjs'))}).default;`
        : `export { default as en } from ${JSON.stringify(join(dirname(args.path), 'en.js'))};`,
      resolveDir: dirname(args.path),
    }));
  },
};

/**
 * The built-in profiles (rules/*.yaml) parsed and validated now, by the code tsc just compiled, and
 * carried in the bundle: a pass then needs no YAML parse and no profile schema. Each entry keeps
 * the YAML text it came from; src/profiles/load.ts uses it only while the file still holds that
 * text. dist/precompiled-profiles.json is the same data, which a unit test compares with rules/.
 */
const { precompileProfiles } = await import(join(ROOT, 'dist', 'profiles', 'load.js'));
const precompiled = JSON.stringify(precompileProfiles(`${join(ROOT, 'rules')}/`));
writeFileSync(join(ROOT, 'dist', 'precompiled-profiles.json'), `${precompiled}\n`);

const buildId = randomBytes(8).toString('hex');
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  minify: process.env.TSFW_BUNDLE_DEBUG !== "1",
  legalComments: 'eof',
  logLevel: 'warning',
  footer: { js: `//# tsfw-build=${buildId}` },
  // bin/load.cjs runs the bundles through vm.Script, where a real `import()` fails (no dynamic
  // import callback): every dynamic import, node's own modules included, becomes a require.
  supported: { 'dynamic-import': false },
  metafile: true,
};
const libs = await build({
  ...common,
  // One getter per library, so each is evaluated when first used: a config memo miss needs zod
  // and YAML, not prom-client (which loads http, https, tls and zlib) or node-cron.
  stdin: {
    contents: `exports.libs = { ${LIBS.map((l) => `get ${JSON.stringify(l)}() { return require(${JSON.stringify(l)}); }`).join(', ')} };`,
    resolveDir: ROOT,
    sourcefile: 'tsfw-libs.cjs',
    loader: 'js',
  },
  outfile: LIBS_OUT,
  plugins: [zodEnglishOnly],
});
const result = await build({
  ...common,
  entryPoints: [join(ROOT, 'src', 'cli', 'main.ts')],
  outfile: OUT,
  // The sources find package.json and rules/ relative to their own file; dist/bundle/ sits at the
  // same depth as dist/cli/, so the same relative paths hold for the bundle.
  define: { 'import.meta.url': '__tsfwImportMetaUrl', TSFW_PRECOMPILED_PROFILES: precompiled, TSFW_BUILD_ID: JSON.stringify(buildId) },
  // __tsfwLib: bin/load.cjs's loader of tsfw-libs.cjs, found by the same relative path.
  banner: { js: "var __tsfwImportMetaUrl = require('node:url').pathToFileURL(__filename).href;\nvar __tsfwLib = (name) => require(require('node:path').join(__dirname, '..', '..', 'bin', 'load.cjs')).libModule(name);" },
  plugins: [separateLibs],
});

// Train the cache: run commands that need no privileges and touch no firewall, so V8 compiles
// the functions a real run uses (config, profiles, rendering, the process runner, errors), then
// serialise them. Commands run in a child with PATH pointing nowhere, so no nft/iptables starts.
// A config file and a run directory of its own (TSFW_RUN_DIR below), so the commands also run the
// config memo's miss and hit paths (src/fsx/memo.ts) without touching the host's /run/tsfw.
const TRAINER = `
import { writeFileSync } from 'node:fs';
import { cachePathFor, compiledScripts, loadBundle } from ${JSON.stringify(join(ROOT, 'bin', 'load.cjs'))};
import { readFileSync } from 'node:fs';
const loaded = loadBundle({ useCache: false });
const quiet = (stream) => { stream.write = () => true; };
quiet(process.stdout); quiet(process.stderr);
const cfg = process.env.TSFW_RUN_DIR + '/config.yaml';
writeFileSync(cfg, 'backend: nftables\\n');
for (const argv of [
  ['render', '-c', '/dev/null'], ['render', '--json', '-c', cfg], ['validate', '-c', cfg], ['validate', '-c', cfg],
  ['reconcile', '-c', cfg, '--backend', 'nftables'], ['reconcile', '--json', '-c', cfg],
  ['status', '-c', cfg], ['apply', '--dry-run', '-c', cfg], ['--help'], ['no-such-command'],
]) await loaded.exports.run(argv);
for (const [file, script] of compiledScripts()) writeFileSync(cachePathFor(readFileSync(file, 'utf8'), file), script.createCachedData());
process.exitCode = 0;
`;
const trainDir = mkdtempSync(join(tmpdir(), 'tsfw-train-'));
const trained = spawnSync(process.execPath, ['--input-type=module', '-e', TRAINER], {
  env: { PATH: '/nonexistent-tsfw-build', LC_ALL: 'C', TSFW_BACKEND: 'nftables', TSFW_RUN_DIR: trainDir },
  stdio: ['ignore', 'inherit', 'inherit'],
});
rmSync(trainDir, { recursive: true, force: true });
if (trained.status !== 0) {
  // The bundle works without its cache, only slower: warn, don't fail the build.
  console.warn(`bundle: code cache not written (trainer exited ${trained.status})`);
}
const kib = (r) => Math.round((Object.values(r.metafile.outputs)[0]?.bytes ?? 0) / 1024);
console.log(`bundle: ${OUT} (${kib(result)} KiB) and ${LIBS_OUT} (${kib(libs)} KiB), build ${buildId}`);
