/** Types for what test/unit/import-boundary.test.ts reads from eslint.config.js. */
export declare const effectModules: readonly string[];
export declare const pureFiles: readonly string[];
declare const config: unknown;
export default config;
