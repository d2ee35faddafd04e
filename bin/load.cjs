// Loads the CLI for bin/tsfw, cheapest form first.
//
// `make build` writes two forms of the CLI: dist/cli/*.js (tsc, one file per module) and
// dist/bundle/ (esbuild): tsfw.cjs, the CLI, and tsfw-libs.cjs, the libraries a converged pass
// does not call (zod, YAML, prom-client, node-cron), each with a V8 code cache beside it; the
// second is compiled only when the CLI first imports one of them (libModule). Node 20 has no built-in
// compile cache (module.enableCompileCache arrived in Node 22), so the bundle is compiled here
// through vm.Script with `cachedData`: V8 then skips parsing and compiling every function the
// cache covers. A cache from another Node/V8 build is rejected by V8 itself and the bundle is
// compiled normally. The cache file name carries the build id written at the end of the bundle,
// so a rebuilt bundle never meets an old cache.
'use strict';
const { readFileSync, statSync } = require('node:fs');
const { createRequire } = require('node:module');
const { basename, dirname, join } = require('node:path');
const { Script } = require('node:vm');

const ROOT = dirname(__dirname);
const BUNDLE = join(ROOT, 'dist', 'bundle', 'tsfw.cjs');
/** The libraries a converged pass does not call (scripts/bundle.mjs says which), loaded on first use. */
const LIBS = join(ROOT, 'dist', 'bundle', 'tsfw-libs.cjs');
const MODULES_ENTRY = join(ROOT, 'dist', 'cli', 'main.js');

/** The wrapper Node itself puts around CommonJS files; the cache is made for exactly this text. */
const HEAD = '(function (exports, require, module, __filename, __dirname) { ';
const TAIL = '\n});';

/** The cache file for a bundle's source (`tsfw-<id>.v8cache`, `tsfw-libs-<id>.v8cache`), or undefined without a build id. */
function cachePathFor(source, file = BUNDLE) {
  const id = /\/\/# tsfw-build=([0-9a-f]+)\s*$/.exec(source.slice(-80))?.[1];
  return id ? join(dirname(file), `${basename(file, '.cjs')}-${id}.v8cache`) : undefined;
}

function mtime(path) {
  try {
    return statSync(path).mtimeMs;
  } catch {
    return undefined;
  }
}

/** Whether compiles use the caches; the build's trainer compiles without them. */
let useCaches = true;
/** Every bundle compiled in this process, for the trainer to serialise. */
const compiled = new Map();

/** Compiles one bundle (with its code cache when there is one) and runs it; returns its exports. */
function compileAndRun(file) {
  const source = readFileSync(file, 'utf8');
  const cacheFile = useCaches ? cachePathFor(source, file) : undefined;
  let cachedData;
  if (cacheFile) {
    try {
      cachedData = readFileSync(cacheFile);
    } catch {
      cachedData = undefined;
    }
  }
  const script = new Script(HEAD + source + TAIL, { filename: file, cachedData });
  compiled.set(file, script);
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
  return module.exports;
}

/**
 * Compiles and runs the bundle; returns its exports and the compiled script (the build uses the
 * script to write the cache). Undefined when there is no bundle, when dist/cli is newer (tsc
 * was re-run without re-bundling: the bundle would be stale), or with TSFW_NO_BUNDLE=1 (used by
 * bench/startup.mjs to measure both forms in one run).
 */
function loadBundle({ useCache = true } = {}) {
  if (process.env.TSFW_NO_BUNDLE === '1') return undefined;
  const bundleTime = mtime(BUNDLE);
  if (bundleTime === undefined) return undefined;
  const modulesTime = mtime(MODULES_ENTRY);
  if (modulesTime !== undefined && modulesTime > bundleTime) return undefined;
  useCaches = useCache;
  const exports = compileAndRun(BUNDLE);
  return { exports, script: compiled.get(BUNDLE) };
}

let libs;
/** One library of tsfw-libs.cjs (the bundle's `import ... from 'zod'` comes here); it is compiled on first use. */
function libModule(name) {
  libs ??= compileAndRun(LIBS).libs;
  if (!(name in libs)) throw new Error(`${LIBS} has no ${name} (rebuild with make build)`);
  return libs[name];
}

/** The bundles compiled so far and their scripts: the build writes their code caches from these. */
function compiledScripts() {
  return [...compiled];
}

/** The CLI's `run(argv) → exit status`, from the bundle when usable, else from dist/cli. */
async function loadCli() {
  const bundled = loadBundle();
  if (bundled) return bundled.exports;
  return import('../dist/cli/main.js');
}

module.exports = { BUNDLE, cachePathFor, compiledScripts, libModule, loadBundle, loadCli };
