import { readMemo, writeMemo } from '../fsx/memo.js';
import { parseConfigText } from './parse.js';
import { CONFIG_MEMO, loadedFrom, readConfigInput } from './source.js';
import type { ConfigInput, LoadedConfig, LoadOptions, ParsedConfig } from './source.js';

export { CONFIG_MEMO, DEFAULT_CONFIG_PATH, loadConfigRemembered, resolveConfigSource } from './source.js';
export type { ConfigSource, LoadedConfig, LoadOptions } from './source.js';

/** Loads, overrides from the environment and validates (or uses the memo of this very input). Throws ConfigError (exit 78). */
export function loadConfig(options: LoadOptions = {}): LoadedConfig {
  return validateConfigInput(readConfigInput(options));
}

/** The validating half of loadConfig: the memo of this very input, else a validation. */
export function validateConfigInput(input: ConfigInput): LoadedConfig {
  const remembered = readMemo(input.memo, CONFIG_MEMO, input.key) as ParsedConfig | undefined;
  return remembered !== undefined ? loadedFrom(input, remembered) : parseAndRemember(input);
}

/** Validates and remembers the input; what loadConfigRemembered imports once its memo read missed. */
export function parseAndRemember(input: ConfigInput): LoadedConfig {
  const parsed = parseConfigText(input.text, input.label, input.env);
  writeMemo(input.memo, CONFIG_MEMO, input.key, parsed);
  return loadedFrom(input, parsed);
}
