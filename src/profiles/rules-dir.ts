import { fileURLToPath } from 'node:url';

/** rules/ at the package root: two levels up from both src/profiles and dist/profiles (and dist/bundle). */
export const RULES_DIR = fileURLToPath(new URL('../../rules/', import.meta.url));
