import { chooseBackend, createBackend } from '../backends/select.js';
import type { BackendChoice } from '../backends/select.js';
import type { Backend } from '../backends/types.js';
import { loadConfigRemembered } from '../config/source.js';
import { BUILD_ID } from '../fsx/memo.js';
import type { MemoPlace } from '../fsx/memo.js';
import { runDirFrom } from '../fsx/run-dir.js';
import type { LoadedConfig } from '../config/source.js';
import type { BackendName, Config } from '../config/schema.js';
import { BACKENDS } from '../config/backends.js';
import { ConfigError } from '../config/errors.js';
import { createProcessRunner } from '../exec/runner.js';
import type { CommandRunner } from '../exec/runner.js';
import { createLogger } from '../log/logger.js';
import type { Logger } from '../log/logger.js';
import type { Mode } from '../model/types.js';

/** Options every command shares. */
export interface CommonOptions {
  readonly config?: string;
  readonly verbose?: boolean;
  readonly mode?: Mode;
  readonly backend?: BackendName;
}

/** Everything a command needs, wired once: config, logger, the one process runner, backend. */
export interface CommandContext {
  readonly loaded: LoadedConfig;
  readonly config: Config;
  readonly log: Logger;
  readonly runner: CommandRunner;
  /** Where this command's memos are read (and, for reconcile and apply, written): src/fsx/memo.ts. */
  readonly memo: MemoPlace;
}

/** Loads config with flag overrides (flags beat TSFW_* beat the file). */
export async function createContext(options: CommonOptions, extra: { allowMissing?: boolean; remember?: boolean } = {}): Promise<CommandContext> {
  // Only the converging commands write memos; the others (render, validate, status…) change nothing, not even there.
  const memo: MemoPlace = { runDir: runDirFrom(process.env), build: BUILD_ID, readOnly: !extra.remember };
  const loaded = await loadConfigRemembered({ flagPath: options.config, allowMissing: extra.allowMissing, memo });
  const config: Config = {
    ...loaded.config,
    ...(options.mode ? { mode: options.mode } : {}),
    ...(options.backend ? { backend: options.backend } : {}),
  };
  if (!(BACKENDS as readonly string[]).includes(config.backend)) {
    throw new ConfigError('flags', [`backend: unknown backend ${config.backend}`]);
  }
  // The CLI is quiet below warn unless asked; the daemon uses the configured level.
  const log = createLogger(options.verbose ? 'debug' : 'warn');
  return { loaded, config, log, runner: createProcessRunner(), memo };
}

/** Resolves the backend (running detection for `auto`). */
export async function resolveBackend(ctx: CommandContext): Promise<{ backend: Backend; choice: BackendChoice }> {
  const choice = await chooseBackend(ctx.config, ctx.runner);
  for (const warning of choice.warnings) ctx.log.warn({ backend: choice.backend }, warning);
  return { backend: createBackend(choice.backend, ctx.config, ctx.runner), choice };
}
