import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { effectModules, pureFiles } from '../../eslint.config.js';

/**
 * The import boundary, followed through the whole graph: ESLint's no-restricted-imports sees only
 * a file's own imports, so a pure module could still reach node-cron or node:fs through a helper
 * it imports. This walks every runtime import (type-only imports load nothing) from each pure
 * module and fails with the chain that reaches an effect module.
 */

const root = resolve(import.meta.dirname, '../..');
const effects = new Set(effectModules);

function listTs(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? listTs(path) : path.endsWith('.ts') ? [relative(root, path)] : [];
  });
}

/** `src/model/**\/*.ts`, `src/backends/*\/plan.ts`: the two wildcards eslint.config.js uses. */
function globRegex(glob: string): RegExp {
  const body = glob.split(/(\*\*\/|\*)/).map((part) => (part === '**/' ? '(?:.*/)?' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'))).join('');
  return new RegExp(`^${body}$`);
}

/** The specifiers a file loads at run time: value imports, re-exports and dynamic `import()`. */
function runtimeImports(file: string): string[] {
  const source = ts.createSourceFile(file, readFileSync(join(root, file), 'utf8'), ts.ScriptTarget.Latest, true);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isImportDeclaration(node) && ts.isStringLiteral(node.moduleSpecifier)) {
      const clause = node.importClause;
      const named = clause?.namedBindings && ts.isNamedImports(clause.namedBindings) ? clause.namedBindings.elements : undefined;
      const typeOnly = clause !== undefined && (clause.isTypeOnly || (!clause.name && named !== undefined && named.length > 0 && named.every((e) => e.isTypeOnly)));
      if (!typeOnly) out.push(node.moduleSpecifier.text);
    } else if (ts.isExportDeclaration(node) && node.moduleSpecifier && ts.isStringLiteral(node.moduleSpecifier) && !node.isTypeOnly) {
      out.push(node.moduleSpecifier.text);
    } else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword && node.arguments[0] && ts.isStringLiteral(node.arguments[0])) {
      out.push(node.arguments[0].text);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

/** A relative specifier → the repository file it names (`./x.js` is `./x.ts` in the sources). */
function resolveLocal(from: string, specifier: string): string {
  const target = relative(root, resolve(root, dirname(from), specifier));
  return target.replace(/\.js$/, '.ts');
}

/** The first chain from `start` to an effect module, or undefined when there is none. */
function effectChain(start: string): string[] | undefined {
  const seen = new Set<string>();
  const walk = (file: string, chain: string[]): string[] | undefined => {
    if (seen.has(file)) return undefined;
    seen.add(file);
    for (const specifier of runtimeImports(file)) {
      if (effects.has(specifier)) return [...chain, file, specifier];
      if (!specifier.startsWith('.')) continue; // a library: only the listed ones are effects
      const found = walk(resolveLocal(file, specifier), [...chain, file]);
      if (found) return found;
    }
    return undefined;
  };
  return walk(start, []);
}

const sources = [...listTs(join(root, 'src'))].filter((f) => !f.endsWith('.test.ts'));
const pure = sources.filter((f) => pureFiles.some((glob) => globRegex(glob).test(f)));

describe('import boundary, transitively', () => {
  it('the pure list names real modules (a typo would silently exempt one)', () => {
    for (const glob of pureFiles) expect(sources.some((f) => globRegex(glob).test(f)), glob).toBe(true);
    expect(pure.length).toBeGreaterThan(40);
  });

  it.each(pure)('%s reaches no effect module', (file) => {
    expect(effectChain(file)?.join(' → ')).toBeUndefined();
  });

  it('the walk does find a chain when there is one', () => {
    expect(effectChain('src/reconcile/daemon.ts')).toBeDefined();
    expect(effectChain('src/config/load.ts')?.at(-1)).toMatch(/fs/);
  });
});
