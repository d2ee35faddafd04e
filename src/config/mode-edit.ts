import { isAlias, isMap, isScalar, parseDocument, visit } from 'yaml';
import type { Alias, Document, Scalar } from 'yaml';
import type { Mode } from '../model/types.js';

/**
 * Recording `mode` in the admin's config without rewriting it: the yaml document model finds the
 * `mode` value, and only that value's bytes are replaced (a byte-level splice at its source
 * range), so comments, flow or block style, quoting, CRLF line ends and bytes in any encoding
 * (Latin-1 comments included) stay exactly as they were. Pure: bytes in, bytes out.
 *
 * An anchored value (`mode: &m off` with `cgnat: {mode: *m}`) is split so nothing else changes
 * meaning: the first alias that referred to it becomes the anchor's definition (`&m off`), so
 * every later alias keeps its value. Afterwards the whole document is compared with the old one:
 * anything but `mode` differing is refused, never written.
 */

export type ModeEdit =
  | { readonly ok: true; readonly bytes: Buffer; readonly changed: boolean }
  | { readonly ok: false; readonly problem: string };

interface Text {
  readonly text: string;
  /** Byte offset of a character offset. */
  readonly byteAt: (offset: number) => number;
  readonly encode: (text: string) => Buffer;
  readonly decode: (bytes: Buffer) => string;
}

/** The edit that sets `mode` to `mode` in the config file's bytes (a new file's bytes when empty). */
export function editModeBytes(bytes: Uint8Array, mode: Mode): ModeEdit {
  const source = Buffer.from(bytes);
  const t = asText(source);
  const doc = parseDocument(t.text, { keepSourceTokens: false, logLevel: 'silent' });
  if (doc.errors.length > 0) return { ok: false, problem: `invalid YAML: ${doc.errors[0]?.message.split('\n', 1)[0]}` };
  const eol = t.text.includes('\r\n') ? '\r\n' : '\n';
  const splices = planSplices(doc, t.text, mode, eol);
  if (typeof splices === 'string') return { ok: false, problem: splices };
  if (splices.length === 0) return { ok: true, bytes: source, changed: false };
  const out = applySplices(source, t, splices);
  const problem = meaningChanged(t, doc, out, mode);
  return problem ? { ok: false, problem } : { ok: true, bytes: out, changed: true };
}

interface Splice {
  readonly start: number;
  readonly end: number;
  readonly text: string;
}

function planSplices(doc: Document, text: string, mode: Mode, eol: string): Splice[] | string {
  const top = doc.contents;
  if (top === null || top === undefined) {
    // Empty, or comments only: add the key at the end.
    const sep = text.length > 0 && !text.endsWith('\n') ? eol : '';
    return [{ start: text.length, end: text.length, text: `${sep}mode: ${mode}${eol}` }];
  }
  if (!isMap(top)) return '(top level): must be a mapping of keys';
  const pair = top.items.find((p) => isScalar(p.key) && p.key.value === 'mode');
  if (!pair) return appendKey(top.flow === true, top.range ?? undefined, text, mode, eol);
  const value = pair.value;
  if (isAlias(value)) return value.range ? [{ start: value.range[0], end: value.range[1], text: mode }] : 'mode: cannot locate the value';
  if (!isScalar(value) || !value.range) return 'mode: not a scalar value';
  if (value.value === mode) return [];
  const splices: Splice[] = [{ start: value.range[0], end: value.range[1], text: scalarText(value, text, mode) }];
  if (value.anchor) {
    const first = firstAliasOf(doc, value);
    if (first?.range) splices.push({ start: first.range[0], end: first.range[1], text: `&${value.anchor} ${propsBefore(text, value)}${text.slice(value.range[0], valueEnd(value, text))}` });
  }
  return splices;
}

/** A missing key goes after the last one: a new line in a block mapping, `, mode: X` in a flow one. */
function appendKey(flow: boolean, range: readonly number[] | undefined, text: string, mode: Mode, eol: string): Splice[] | string {
  if (!range) return '(top level): cannot locate the mapping';
  if (flow) {
    const close = text.lastIndexOf('}', range[1]);
    if (close < 0) return '(top level): cannot locate the mapping';
    const empty = /^\{\s*$/.test(text.slice(range[0], close));
    return [{ start: close, end: close, text: empty ? `mode: ${mode}` : `, mode: ${mode}` }];
  }
  const at = range[1] ?? text.length;
  const sep = at > 0 && text[at - 1] !== '\n' ? eol : '';
  return [{ start: at, end: at, text: `${sep}mode: ${mode}${eol}` }];
}

/** The new value in the old value's style: plain, 'single' or "double" quoted; a block scalar becomes plain. */
function scalarText(value: Scalar, text: string, mode: Mode): string {
  if (value.type === 'QUOTE_DOUBLE') return `"${mode}"`;
  if (value.type === 'QUOTE_SINGLE') return `'${mode}'`;
  if (value.type === 'BLOCK_LITERAL' || value.type === 'BLOCK_FOLDED') {
    const old = text.slice(value.range![0], value.range![1]);
    const tail = /\r?\n[ \t\r\n]*$/.exec(old);
    return `${mode}${tail ? old.slice(tail.index) : ''}`;
  }
  return mode;
}

/** Where the value's own source ends (a block scalar's range includes its line break). */
function valueEnd(value: Scalar, text: string): number {
  const end = value.range![1];
  if (value.type !== 'BLOCK_LITERAL' && value.type !== 'BLOCK_FOLDED') return end;
  return text.slice(0, end).replace(/[\r\n]+$/, '').length;
}

/** An explicit tag written before the value (`&m !!str off`), repeated with the moved anchor. */
function propsBefore(text: string, value: Scalar): string {
  const line = text.slice(text.lastIndexOf('\n', value.range![0] - 1) + 1, value.range![0]);
  const tag = /(?:^|\s)(![^\s,{}[\]]*)\s+(?:&\S+\s+)?$/.exec(line)?.[1];
  return tag ? `${tag} ` : '';
}

/** The first alias (in document order) that resolves to `node`. */
function firstAliasOf(doc: Document, node: Scalar): Alias | undefined {
  let first: Alias | undefined;
  visit(doc, {
    Alias(_key, alias) {
      if (alias.resolve(doc) === node && (!first || (alias.range?.[0] ?? 0) < (first.range?.[0] ?? 0))) first = alias;
    },
  });
  return first;
}

function applySplices(source: Buffer, t: Text, splices: readonly Splice[]): Buffer {
  const parts: Buffer[] = [];
  let at = 0;
  for (const s of [...splices].sort((a, b) => a.start - b.start)) {
    parts.push(source.subarray(at, t.byteAt(s.start)), t.encode(s.text));
    at = t.byteAt(s.end);
  }
  parts.push(source.subarray(at));
  return Buffer.concat(parts);
}

/** Everything but `mode` must mean what it meant, and `mode` must now be `mode`. */
function meaningChanged(t: Text, before: Document, after: Buffer, mode: Mode): string | undefined {
  const doc = parseDocument(t.decode(after), { logLevel: 'silent' });
  if (doc.errors.length > 0) return 'mode: the edited file would not parse: not written';
  const old = asRecord(before.toJS({ maxAliasCount: 50 }));
  const now = asRecord(doc.toJS({ maxAliasCount: 50 }));
  if (now.mode !== mode) return 'mode: the edit did not take: not written';
  delete old.mode;
  delete now.mode;
  if (JSON.stringify(old) !== JSON.stringify(now)) return 'mode: recording it would change other keys: not written';
  return undefined;
}

function asRecord(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? { ...(value as Record<string, unknown>) } : {};
}

/** UTF-8 when the bytes are valid UTF-8 (offsets mapped to bytes), else Latin-1 (one byte, one character). */
function asText(bytes: Buffer): Text {
  try {
    const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes);
    return {
      text,
      byteAt: (offset) => Buffer.byteLength(text.slice(0, offset), 'utf8'),
      encode: (s) => Buffer.from(s, 'utf8'),
      decode: (b) => b.toString('utf8'),
    };
  } catch {
    return {
      text: bytes.toString('latin1'),
      byteAt: (offset) => offset,
      encode: (s) => Buffer.from(s, 'latin1'),
      decode: (b) => b.toString('latin1'),
    };
  }
}
