// Finding and reading the config, and the CLI's remembered load. Nothing here imports the YAML
// parser or the schema (config/load.ts does): a pass whose config is remembered needs neither.
import { existsSync } from 'node:fs';
import { BUILD_ID, readMemo } from '../fsx/memo.js';
import type { MemoPlace } from '../fsx/memo.js';
import { readBoundedFile, UnreadableFileError } from '../fsx/read-bounded.js';
import { runDirFrom } from '../fsx/run-dir.js';
import type { Config } from './schema.js';
import { ConfigError } from './errors.js';
import type { parseConfigText } from './parse.js';

/** Where tsfw looks for its config when neither -c nor $TSFW_CONFIG names one. */
export const DEFAULT_CONFIG_PATH = '/etc/tsfw/config.yaml';

/** Where the config came from, so `status` can say it and `apply --mode` can record into it. */
export interface ConfigSource {
  /** The file in use, or the file a save would create. */
  readonly path: string;
  readonly origin: 'flag' | 'env' | 'default-path' | 'embedded';
  readonly exists: boolean;
}

export interface LoadedConfig {
  readonly config: Config;
  readonly source: ConfigSource;
  /** Keys overridden from the environment (TSFW_MODE, TSFW_BACKEND). */
  readonly overrides: readonly string[];
  /** The file exists but holds no YAML document (empty, blank or comments only). */
  readonly empty: boolean;
}

export interface LoadOptions {
  readonly flagPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Let a named-but-missing file fall back to defaults (used by `apply --mode`, which creates it). */
  readonly allowMissing?: boolean;
  /** Where a validated config is remembered (default: the run directory and the bundle's build id). */
  readonly memo?: MemoPlace;
}

/** The memo file of the last validated config (src/fsx/memo.ts says when it is trusted). */
export const CONFIG_MEMO = 'config.memo.json';

/** Picks the file: -c FILE, else $TSFW_CONFIG, else /etc/tsfw/config.yaml if present, else none. */
export function resolveConfigSource(flagPath: string | undefined, env: NodeJS.ProcessEnv): ConfigSource {
  if (flagPath !== undefined) {
    // `-c ''` (an unset shell variable) must not silently mean "the embedded defaults".
    if (flagPath === '') throw new ConfigError('-c', ['empty path: name a config file']);
    return { path: flagPath, origin: 'flag', exists: existsSync(flagPath) };
  }
  const fromEnv = env.TSFW_CONFIG;
  if (fromEnv) return { path: fromEnv, origin: 'env', exists: existsSync(fromEnv) };
  const exists = existsSync(DEFAULT_CONFIG_PATH);
  return { path: DEFAULT_CONFIG_PATH, origin: exists ? 'default-path' : 'embedded', exists };
}

/** What parseConfigText gives: the validated config, the overridden keys, whether the file was empty. */
export type ParsedConfig = ReturnType<typeof parseConfigText>;

/** The input of one load: where, the text, and the memo key (the whole input of parseConfigText). */
export interface ConfigInput {
  readonly source: ConfigSource;
  readonly text: string;
  readonly label: string;
  readonly env: NodeJS.ProcessEnv;
  readonly memo: MemoPlace;
  readonly key: string;
}

/** Resolves and reads the file (or refuses a missing one); validates nothing. Throws ConfigError (exit 78). */
export function readConfigInput(options: LoadOptions): ConfigInput {
  const env = options.env ?? process.env;
  const source = resolveConfigSource(options.flagPath, env);
  if (!source.exists && source.origin !== 'embedded' && !options.allowMissing) {
    const via = source.origin === 'flag' ? '-c' : 'TSFW_CONFIG';
    throw new ConfigError(source.path, [`no such file (named by ${via})`]);
  }
  const text = source.exists ? readConfigText(source.path) : '';
  const label = source.exists ? source.path : 'config';
  const memo = options.memo ?? { runDir: runDirFrom(env), build: BUILD_ID };
  const key = JSON.stringify([label, text, env.TSFW_MODE ?? '', env.TSFW_BACKEND ?? '']);
  return { source, text, label, env, memo, key };
}

/** The loaded config from a validated result. */
export function loadedFrom(input: ConfigInput, parsed: ParsedConfig): LoadedConfig {
  return { config: parsed.config, source: input.source, overrides: parsed.overrides, empty: input.source.exists && parsed.empty };
}

/**
 * loadConfig for the CLI: a config remembered for exactly this input (src/fsx/memo.ts) is used
 * without loading YAML or zod at all; otherwise config/load.ts (and with it the parser and the
 * schema) is imported and validates as always, with the same errors.
 */
export async function loadConfigRemembered(options: LoadOptions = {}): Promise<LoadedConfig> {
  const input = readConfigInput(options);
  const remembered = readMemo(input.memo, CONFIG_MEMO, input.key) as ParsedConfig | undefined;
  if (remembered !== undefined) return loadedFrom(input, remembered);
  const { parseAndRemember } = await import('./load.js');
  return parseAndRemember(input);
}

/**
 * The config file's text: a regular file of at most a few MB, read without blocking (a FIFO,
 * /dev/zero or a directory at the path is refused with exit 78, never read).
 */
function readConfigText(path: string): string {
  try {
    return readBoundedFile(path).toString('utf8');
  } catch (error) {
    if (error instanceof UnreadableFileError) throw new ConfigError(path, [error.reason], { cause: error });
    throw error;
  }
}
