import { getter, type CompileContext, type Condition, type Doc, type Leaf, type Matcher } from './condition';
import { canonicalLiteral } from './canonical';
import { fieldView } from './match-window';

/**
 * Literal prefiltering. For each rule we work out, from its condition alone, one field and a set
 * of literals such that the rule can only match when that field (lower-cased) contains at least
 * one of them. The detector then runs one combined literal search per field and document and
 * tries only the rules whose literals occur: on log lines, where almost nothing matches, a line
 * costs one search instead of one evaluation per rule.
 *
 * The combined search is a JavaScript RegExp built by us from escaped literals only: an
 * alternation of plain strings has no nested quantifier, so it cannot backtrack
 * catastrophically (worst case is linear in line length times total literal length). It reads
 * the field's text exactly as the matchers do (match-window.ts: the same head and tail, shared with
 * them), so it never rejects a document a rule would match.
 */
export interface Alternative {
  field: string;
  /** Lower-cased. */
  literals: string[];
}
/** Whenever the rule matches, for at least one alternative the field contains one of its literals. */
export type Requirement = Alternative[];

/** Literals shorter than this would pass most lines; a rule that needs them is not prefiltered. */
const MIN_LITERAL = 3;

/** A conjunction's requirement: any one conjunct's holds for the whole; the most selective. */
export function allOf(reqs: Array<Requirement | undefined>): Requirement | undefined {
  return reqs.filter((r): r is Requirement => !!r).sort((a, b) => selectivity(b) - selectivity(a))[0];
}

/** A disjunction's requirement: every disjunct needs one, and any of them will do. */
export function anyOf(reqs: Array<Requirement | undefined>): Requirement | undefined {
  if (reqs.length === 0 || reqs.some((r) => !r)) return undefined;
  const byField = new Map<string, Set<string>>();
  for (const alt of reqs.flat() as Alternative[]) for (const l of alt.literals) byField.set(alt.field, (byField.get(alt.field) ?? new Set()).add(l));
  return [...byField].map(([field, literals]) => ({ field, literals: [...literals] }));
}

/** One field whose value must contain one of `literals` (lower-cased here), or undefined when a literal is too short. */
export function literalsOn(field: string, literals: string[]): Requirement | undefined {
  return literals.length > 0 && literals.every((l) => l.length >= MIN_LITERAL) ? [{ field, literals: [...new Set(literals.map((l) => l.toLowerCase()))] }] : undefined;
}

/** A matcher may carry its requirement (Sigma's compiler builds matchers, not conditions). */
export type Prefiltered = Matcher & { req?: Requirement };
export function withReq(m: Matcher, req: Requirement | undefined): Prefiltered {
  if (req) (m as Prefiltered).req = req;
  return m;
}
export const reqOf = (m: Matcher): Requirement | undefined => (m as Prefiltered).req;

export function requirement(c: Condition, ctx: CompileContext, seen: string[] = []): Requirement | undefined {
  if ('all' in c) return allOf(c.all.map((x) => requirement(x, ctx, seen)));
  if ('any' in c) return anyOf(c.any.map((x) => requirement(x, ctx, seen)));
  if ('not' in c) return undefined;
  if ('macro' in c) {
    const m = ctx.macros[c.macro];
    return m && !seen.includes(c.macro) ? requirement(m, ctx, [...seen, c.macro]) : undefined;
  }
  const leaf = c as Leaf;
  if (typeof leaf.regex === 'string') {
    const literals = regexLiterals(leaf.regex);
    return literals ? [{ field: leaf.field, literals }] : undefined;
  }
  // A value `in` a list equals one of its members, so it contains one: a list is literals too.
  const value = leaf.contains ?? leaf.startswith ?? leaf.endswith ?? leaf.equals ?? leaf.in;
  if (value === undefined) return undefined;
  const resolve = (v: unknown): unknown[] => (typeof v === 'string' && v.startsWith('@') && ctx.lists[v.slice(1)] ? ctx.lists[v.slice(1)] : [v]);
  const values = (Array.isArray(value) ? value : [value]).flatMap(resolve);
  // In the spelling the field's text has (canonical.ts), as the matchers compare them.
  const literals = values.map((v) => (typeof v === 'string' ? canonicalLiteral(leaf.field, v) : v));
  if (!literals.every((v) => typeof v === 'string' && v.length >= MIN_LITERAL)) return undefined;
  return [{ field: leaf.field, literals: literals.map((v) => (v as string).toLowerCase()) }];
}

const PLAIN = /[A-Za-z0-9 _\-:=,;'"@%&<>~`!/#]/;

/**
 * For each top-level alternative of an RE2 pattern, the literals any match must contain one of:
 * its longest run of literal characters, or a group of plain alternatives such as
 * `\b(docker|podman|nerdctl)\b` when that is more selective; undefined when some alternative has
 * neither with MIN_LITERAL characters. Conservative: classes, escapes other than escaped
 * punctuation, optional characters and optional groups end a run; `\Q…\E` gives up.
 */
export function regexLiterals(pattern: string): string[] | undefined {
  if (pattern.includes('\\Q')) return undefined;
  const alternatives: string[][][] = [[]];
  let run = '';
  let depth = 0;
  const end = () => {
    if (run) alternatives[alternatives.length - 1].push([run]);
    run = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') {
      const next = pattern[++i] ?? '';
      if (depth === 0 && /[^A-Za-z0-9]/.test(next)) run += next;
      else end();
    } else if (ch === '[') {
      end();
      i = classEnd(pattern, i);
    } else if (ch === '(') {
      end();
      if (depth === 0) {
        const close = groupEnd(pattern, i);
        const members = close > 0 ? plainAlternatives(pattern.slice(i + 1, close)) : undefined;
        // Required unless made optional by what follows it.
        if (members && !/^[?*{]/.test(pattern[close + 1] ?? '')) alternatives[alternatives.length - 1].push(members);
      }
      depth++;
    } else if (ch === ')') {
      depth--;
    } else if (ch === '|' && depth === 0) {
      end();
      alternatives.push([]);
    } else if (depth === 0 && PLAIN.test(ch)) run += ch;
    else if (ch === '+') end();
    else if (ch === '?' || ch === '*' || ch === '{') {
      // The character before is optional (or repeated from zero): drop it from the run.
      run = run.slice(0, -1);
      end();
      if (ch === '{') while (i < pattern.length && pattern[i] !== '}') i++;
    } else end();
  }
  end();
  // The most selective set of each alternative: longest shortest member, then fewest members.
  const score = (set: string[]) => Math.min(...set.map((l) => l.length)) - set.length / 100;
  const best = alternatives.map((sets) => sets.sort((a, b) => score(b) - score(a))[0]);
  if (best.some((set) => !set || Math.min(...set.map((l) => l.length)) < MIN_LITERAL)) return undefined;
  return [...new Set(best.flatMap((set) => set!.map((l) => l.toLowerCase())))];
}

/** The index of the `]` closing the class opened at `start` (a leading `]` and `[:name:]` are inside). */
function classEnd(pattern: string, start: number): number {
  let i = start + 1;
  if (pattern[i] === '^') i++;
  if (pattern[i] === ']') i++;
  for (; i < pattern.length && pattern[i] !== ']'; i++) {
    if (pattern[i] === '\\') i++;
    else if (pattern[i] === '[' && pattern[i + 1] === ':') {
      const close = pattern.indexOf(':]', i + 2);
      if (close > 0) i = close + 1;
    }
  }
  return i;
}

/** The index of the `)` closing the group opened at `start`, or -1. */
function groupEnd(pattern: string, start: number): number {
  let depth = 0;
  for (let i = start; i < pattern.length; i++) {
    const ch = pattern[i];
    if (ch === '\\') i++;
    else if (ch === '[') i = classEnd(pattern, i);
    else if (ch === '(') depth++;
    else if (ch === ')' && --depth === 0) return i;
  }
  return -1;
}

/** `a|b|c` (or `?:a|b|c`) of plain literals: its members; undefined for anything else. */
function plainAlternatives(inner: string): string[] | undefined {
  const body = inner.startsWith('?:') ? inner.slice(2) : inner;
  if (body.startsWith('?')) return undefined;
  const members: string[] = [''];
  for (let i = 0; i < body.length; i++) {
    const ch = body[i];
    if (ch === '\\') {
      const next = body[++i] ?? '';
      if (!/[^A-Za-z0-9]/.test(next) || next === '') return undefined;
      members[members.length - 1] += next;
    } else if (ch === '|') members.push('');
    else if (PLAIN.test(ch)) members[members.length - 1] += ch;
    else return undefined;
  }
  return members.every((m) => m !== '') ? members : undefined;
}

/**
 * ECS categorization fields: a handful of values that most documents of a kind share (every
 * process start has event.type "start"). A requirement on them filters nothing; another conjunct's
 * is preferred whenever there is one (52 of 77 built-in process rules chose "start" before).
 */
const CATEGORIZATION = new Set(['event.type', 'event.kind', 'event.category', 'event.outcome', 'data_stream.dataset']);

function selectivity(r: Requirement): number {
  const literals = r.flatMap((a) => a.literals);
  const base = Math.min(...literals.map((l) => l.length)) - literals.length / 10;
  return r.every((a) => CATEGORIZATION.has(a.field)) ? base - 1000 : base;
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** Rules of one document kind, split into those prefiltered per field and those always tried. */
export class RuleIndex<R extends { prefilter?: Requirement }> {
  private readonly always: R[] = [];
  private readonly byField: Array<{ field: string; get: (d: Doc) => unknown[]; any: RegExp; rules: Array<{ rule: R; literals: string[] }> }> = [];

  constructor(readonly rules: R[]) {
    const fields = new Map<string, Array<{ rule: R; literals: string[] }>>();
    for (const rule of rules) {
      if (!rule.prefilter) this.always.push(rule);
      else for (const alt of rule.prefilter) fields.set(alt.field, [...(fields.get(alt.field) ?? []), { rule, literals: alt.literals }]);
    }
    for (const [field, list] of fields) {
      const all = [...new Set(list.flatMap((x) => x.literals))].sort((a, b) => b.length - a.length);
      this.byField.push({ field, get: getter(field), any: new RegExp(all.map(escape).join('|')), rules: list });
    }
  }

  /** The rules that could match this document (each once). */
  candidates(doc: Doc): R[] {
    if (this.byField.length === 0) return this.always;
    let out: R[] | undefined;
    for (const f of this.byField) {
      const view = fieldView(doc, f.field, f.get);
      const texts = view.lower();
      if (texts.length === 0 || !texts.some((t) => f.any.test(t))) continue;
      out ??= [...this.always];
      // Rules share literals: the view looks for each once per document (and the regex leaves reuse the answers).
      for (const { rule, literals } of f.rules) if (!out.includes(rule) && literals.some((l) => view.has(l))) out.push(rule);
    }
    return out ?? this.always;
  }
}
