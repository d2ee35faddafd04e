import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';

/** Whether this run rewrites golden files (`UPDATE_GOLDEN=1`) instead of comparing. */
export const UPDATE_GOLDEN = process.env.UPDATE_GOLDEN === '1';

/** Compares `actual` with the golden file `dir/file` (or rewrites it); `testFile` names how to refresh. */
export function compareGolden(dir: string, file: string, actual: string, testFile: string): void {
  const path = join(dir, file);
  if (UPDATE_GOLDEN) {
    mkdirSync(dir, { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`missing golden file ${path}: run UPDATE_GOLDEN=1 npx vitest run ${testFile}`);
  expect(actual, `${file} differs from the golden file`).toBe(readFileSync(path, 'utf8'));
}
