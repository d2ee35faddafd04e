import type { TfBlock, TfDocument, TfValue } from './types.js';

/**
 * Prints a Terraform document (plain data) as HCL. The same data, JSON-stringified, is Terraform's
 * JSON syntax, so `--json` and the text form can never disagree. Arrays of objects are nested
 * blocks (`allow { … }`), arrays of strings are list attributes.
 */

const isBlockList = (v: TfValue): v is readonly TfBlock[] => Array.isArray(v) && v.length > 0 && typeof v[0] === 'object';

/** A string that is one whole `${expr}` (Terraform JSON's expression form) prints as the bare expression. */
function scalar(v: string | number): string {
  if (typeof v === 'number') return String(v);
  const expr = /^\$\{([^{}]+)\}$/.exec(v);
  return expr ? expr[1]! : JSON.stringify(v);
}

function body(block: TfBlock, indent: string): string[] {
  const attrs = Object.entries(block).filter(([, v]) => !isBlockList(v));
  const width = Math.max(0, ...attrs.map(([k]) => k.length));
  const lines = attrs.map(([k, v]) => {
    const value = Array.isArray(v) ? `[${(v as readonly string[]).map(scalar).join(', ')}]` : scalar(v as string | number);
    return `${indent}${k.padEnd(width)} = ${value}`;
  });
  for (const [k, v] of Object.entries(block)) {
    if (!isBlockList(v)) continue;
    for (const inner of v) lines.push(`${indent}${k} {`, ...body(inner, `${indent}  `), `${indent}}`);
  }
  return lines;
}

/** HCL text of the document: variables first, then resources in insertion order. */
export function printHcl(doc: TfDocument, headerLines: readonly string[]): string {
  const out: string[] = [...headerLines.map((l) => `# ${l}`)];
  for (const [name, v] of Object.entries(doc.variable)) {
    out.push('', `variable ${JSON.stringify(name)} {`, ...body({ type: `\${${v.type}}`, description: v.description }, '  '), '}');
  }
  for (const [type, resources] of Object.entries(doc.resource)) {
    for (const [name, block] of Object.entries(resources)) {
      out.push('', `resource ${JSON.stringify(type)} ${JSON.stringify(name)} {`, ...body(block, '  '), '}');
    }
  }
  return `${out.join('\n')}\n`;
}
