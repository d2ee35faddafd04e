import { existsSync, readFileSync } from 'node:fs';
import type { Config } from './schema.js';
import { ConfigError } from './errors.js';
import { parseConfigText } from './parse.js';

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
}

export interface LoadOptions {
  readonly flagPath?: string;
  readonly env?: NodeJS.ProcessEnv;
  /** Let a named-but-missing file fall back to defaults (used by `apply --mode`, which creates it). */
  readonly allowMissing?: boolean;
}

/** Picks the file: -c FILE, else $TSFW_CONFIG, else /etc/tsfw/config.yaml if present, else none. */
export function resolveConfigSource(flagPath: string | undefined, env: NodeJS.ProcessEnv): ConfigSource {
  if (flagPath) return { path: flagPath, origin: 'flag', exists: existsSync(flagPath) };
  const fromEnv = env.TSFW_CONFIG;
  if (fromEnv) return { path: fromEnv, origin: 'env', exists: existsSync(fromEnv) };
  const exists = existsSync(DEFAULT_CONFIG_PATH);
  return { path: DEFAULT_CONFIG_PATH, origin: exists ? 'default-path' : 'embedded', exists };
}

/** Loads, overrides from the environment and validates. Throws ConfigError (exit 78). */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  const env = options.env ?? process.env;
  const source = resolveConfigSource(options.flagPath, env);
  if (!source.exists && source.origin !== 'embedded' && !options.allowMissing) {
    const via = source.origin === 'flag' ? '-c' : 'TSFW_CONFIG';
    throw new ConfigError(source.path, [`no such file (named by ${via})`]);
  }
  const text = source.exists ? readText(source.path) : '';
  const { config, overrides } = parseConfigText(text, source.exists ? source.path : 'config', env);
  return { config, source, overrides };
}

function readText(path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new ConfigError(path, [`cannot read (${code})`], { cause: error });
  }
}
