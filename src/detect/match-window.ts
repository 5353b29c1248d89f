/**
 * What the rules see of a field: its text, bounded, computed once per field and document.
 *
 * A field whose text (all its values together, for an array) is longer than MAX_MATCH is matched
 * on its first MATCH_HEAD and its last MATCH_TAIL characters only. The head and the tail are both
 * kept so that padding placed before a payload (or after it) cannot push the payload out of view:
 * it has to be padded on both sides, and a command line that long is reported as tampering by the
 * detector. Where text was left out, the kept text carries CUT_MARK, so a cut value neither equals
 * nor ends (nor starts) with what was removed around it. Every operator and the literal prefilter
 * read the same texts, so the prefilter never rejects what a matcher would match.
 *
 * This is what bounds rule evaluation per document (review finding M2): each rule runs over at most
 * MAX_MATCH characters per field, whatever the document holds.
 */
import { hasRun, PADDING_NOTE } from '../enrich/args';
import { canonicalizer } from './canonical';
import type { Doc } from './condition';

export const MATCH_HEAD = 4096;
export const MATCH_TAIL = 4096;
/** Fields with more text than this are cut to their head and tail. */
export const MAX_MATCH = MATCH_HEAD + MATCH_TAIL;
/** Fields longer than this are cut to their windows before they are spelled canonically (canonical.ts). */
const CANONICAL_LIMIT = 4 * MAX_MATCH;
/** Stands where text was left out: a newline, which `.` in a regex does not cross. */
export const CUT_MARK = '\n';

export interface FieldView {
  /** The values at the path (arrays walked), as the document has them. */
  readonly values: unknown[];
  /** The text of the scalar values (objects are not values), cut as described above. */
  readonly texts: string[];
  /** Characters of text as the document has it (before canonical spelling and cutting). */
  readonly length: number;
  /** Some text was left out. */
  readonly cut: boolean;
  /** `texts` lower-cased (computed on first use). */
  lower(): string[];
  /** Whether the lower-cased texts contain `literal` (lower-case), answered once per view and literal. */
  has(literal: string): boolean;
}

/** The text of a value that rules can match: strings, numbers, booleans; anything else has none. */
export function scalarText(v: unknown): string | undefined {
  switch (typeof v) {
    case 'string':
      return v;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(v);
    default:
      return undefined;
  }
}

class View implements FieldView {
  readonly texts: string[];
  readonly length: number;
  readonly cut: boolean;
  private lowered?: string[];
  private found?: Map<string, boolean>;

  constructor(readonly values: unknown[], canonical?: (texts: string[]) => string[]) {
    let all: string[] = [];
    let length = 0;
    for (const v of values) {
      const s = scalarText(v);
      if (s === undefined) continue;
      all.push(s);
      length += s.length;
    }
    this.length = length;
    if (canonical) {
      // Spelled canonically before the cut, so whitespace padding collapses instead of hiding a
      // payload; past CANONICAL_LIMIT the windows are cut first, which bounds the work.
      if (length > CANONICAL_LIMIT) all = windows(all, length);
      all = canonical(all);
      length = all.reduce((n, s) => n + s.length, 0);
    }
    this.cut = length > MAX_MATCH;
    this.texts = this.cut ? windows(all, length) : all;
  }

  lower(): string[] {
    return (this.lowered ??= this.texts.map((s) => s.toLowerCase()));
  }

  has(literal: string): boolean {
    const found = (this.found ??= new Map());
    let yes = found.get(literal);
    if (yes === undefined) {
      const texts = this.lower();
      yes = texts.some((t) => t.includes(literal));
      found.set(literal, yes);
    }
    return yes;
  }
}

/**
 * The parts of `all` (laid end to end, `total` characters) that fall in the first MATCH_HEAD or
 * the last MATCH_TAIL characters; a value cut by a window boundary is marked where it was cut, and
 * one that spans the gap keeps its start and its end around one mark.
 */
function windows(all: string[], total: number): string[] {
  const headEnd = MATCH_HEAD;
  const tailStart = total - MATCH_TAIL;
  const out: string[] = [];
  let off = 0;
  for (const s of all) {
    const start = off;
    const end = off + s.length;
    off = end;
    const head = start < headEnd ? s.slice(0, Math.min(end, headEnd) - start) : '';
    const tail = end > tailStart ? s.slice(Math.max(start, tailStart) - start) : '';
    if (start < headEnd && end > tailStart) out.push(head + CUT_MARK + tail);
    else if (start < headEnd) out.push(end > headEnd ? head + CUT_MARK : s);
    else if (end > tailStart) out.push(start < tailStart ? CUT_MARK + tail : s);
  }
  return out;
}

/** The views of the document being inspected (see inDocument). */
let scope: { doc: Doc; views: Map<string, FieldView> } | undefined;

/**
 * Runs `fn` with field views cached for `doc`: every rule that reads a field of it shares one view
 * (one cut, one lower-casing), instead of one per rule and leaf.
 */
export function inDocument<T>(doc: Doc, fn: () => T): T {
  const outer = scope;
  scope = { doc, views: new Map() };
  try {
    return fn();
  } finally {
    scope = outer;
  }
}

/** The view of `field` (read with `get`) in `doc`; cached inside inDocument for that document. */
export function fieldView(doc: Doc, field: string, get: (d: Doc) => unknown[]): FieldView {
  if (scope?.doc !== doc) return new View(get(doc), canonicalizer(field));
  let v = scope.views.get(field);
  if (!v) scope.views.set(field, (v = new View(get(doc), canonicalizer(field))));
  return v;
}

/** At most this much of the hidden middle is scanned: the report needs one run, not all of them. */
const PAD_SCAN = 256 * 1024;

/**
 * True when the part of a long value that the rules did not see looks like padding: a run of
 * PAD_RUN equal characters (`"$(printf '%17000s')…"`; a long real command line, a Java classpath,
 * has none), or the marker of a cut made where the arguments were read that found such a run.
 */
export function hidesPadding(values: unknown[]): boolean {
  const text = values.filter((v): v is string => typeof v === 'string').join(' ');
  if (text.includes(PADDING_NOTE)) return true;
  return hasRun(text.slice(MATCH_HEAD, Math.min(text.length - MATCH_TAIL, MATCH_HEAD + PAD_SCAN)));
}
