/** Where the lock, state.json and the memos live unless TSFW_RUN_DIR says otherwise. */
export const DEFAULT_RUN_DIR = '/run/tsfw';

/** The run directory: $TSFW_RUN_DIR (tests) or /run/tsfw. */
export function runDirFrom(env: NodeJS.ProcessEnv = process.env): string {
  return env.TSFW_RUN_DIR || DEFAULT_RUN_DIR;
}
