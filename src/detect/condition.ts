import { BlockList, isIP } from 'node:net';
import { RE2JS } from 're2js';
import { canonicalLiteral } from './canonical';
import { fieldView } from './match-window';

export { MATCH_HEAD, MATCH_TAIL, MAX_MATCH } from './match-window';

/**
 * The rule condition language, compiled to plain functions once per rule.
 *
 *   { all: [c, …] }  { any: [c, …] }  { not: c }  { macro: name }
 *   { field: process.name, <operator>: value, nocase?: true }
 *
 * Operators: equals, in (a list or "@list"), contains, startswith, endswith (each a string or a
 * list: any of them), regex (RE2 syntax: linear time, no backreferences, so no pattern can
 * backtrack catastrophically), cidr, gt, gte, lt, lte, exists. A field holding an array matches
 * when any element does; objects are not values. A field with more than MAX_MATCH characters of
 * text is matched on its first MATCH_HEAD and last MATCH_TAIL characters (match-window.ts; the
 * document keeps it whole); command lines, arguments and paths in their canonical spelling
 * (canonical.ts), values and literals alike.
 */
export type Scalar = string | number | boolean;
export interface Leaf {
  field: string;
  equals?: Scalar | Scalar[];
  in?: string | Scalar[];
  contains?: string | string[];
  startswith?: string | string[];
  endswith?: string | string[];
  regex?: string;
  cidr?: string | string[];
  gt?: number;
  gte?: number;
  lt?: number;
  lte?: number;
  exists?: boolean;
  nocase?: boolean;
}
export type Condition = { all: Condition[] } | { any: Condition[] } | { not: Condition } | { macro: string } | Leaf;
export type Doc = Record<string, unknown>;
export type Matcher = (doc: Doc) => boolean;

const OPERATORS = ['equals', 'in', 'contains', 'startswith', 'endswith', 'regex', 'cidr', 'gt', 'gte', 'lt', 'lte', 'exists'] as const;

/** A problem in a condition, with the path inside the rule where it is. */
export class ConditionError extends Error {
  constructor(readonly path: Array<string | number>, message: string) {
    super(message);
  }
}

export interface CompileContext {
  lists: Record<string, Scalar[]>;
  macros: Record<string, Condition>;
  /** When given, every leaf outside a `not` is added here, so a hit can be explained by field. */
  leaves?: Array<{ field: string; match: Matcher }>;
}

export function compileCondition(c: Condition, ctx: CompileContext, path: Array<string | number> = [], seen: string[] = []): Matcher {
  if (c === null || typeof c !== 'object' || Array.isArray(c)) throw new ConditionError(path, 'a condition is a mapping');
  if ('all' in c || 'any' in c) {
    const key = 'all' in c ? 'all' : 'any';
    const items = (c as Record<string, unknown>)[key];
    if (!Array.isArray(items) || items.length === 0) throw new ConditionError([...path, key], `${key} takes a non-empty list of conditions`);
    const compiled = items.map((x, i) => compileCondition(x as Condition, ctx, [...path, key, i], seen));
    if (key === 'all') return (d) => compiled.every((m) => m(d));
    const parts = mergeRegexes(items as Condition[], compiled, ctx);
    return (d) => parts.some((m) => m(d));
  }
  if ('not' in c) {
    // A leaf under `not` that holds is what did not happen: it explains nothing.
    const inner = compileCondition(c.not, { ...ctx, leaves: undefined }, [...path, 'not'], seen);
    return (d) => !inner(d);
  }
  if ('macro' in c) {
    const m = ctx.macros[c.macro];
    if (!m) throw new ConditionError([...path, 'macro'], `unknown macro "${c.macro}"`);
    if (seen.includes(c.macro)) throw new ConditionError([...path, 'macro'], `macro "${c.macro}" refers to itself`);
    return compileCondition(m, ctx, path, [...seen, c.macro]);
  }
  const leaf = compileLeaf(c as Leaf, ctx, path);
  ctx.leaves?.push({ field: (c as Leaf).field, match: leaf });
  return leaf;
}

/**
 * The alternatives of an `any`, with its regexes on one field (and one case mode) run as one
 * regex `(?:a)|(?:b)|…`: one DFA pass over the text instead of one per regex, the same answer
 * (some value matches some regex). The leaves compiled one by one stay for `explain`; a group
 * whose union does not compile keeps them.
 */
function mergeRegexes(items: Condition[], compiled: Matcher[], ctx: CompileContext): Matcher[] {
  const groups = new Map<string, { field: string; nocase: boolean; patterns: string[]; at: number[] }>();
  items.forEach((item, i) => {
    let c: Condition | undefined = item;
    for (let hops = 0; c && 'macro' in c && hops < 16; hops++) c = ctx.macros[c.macro];
    const leaf = c as Leaf | undefined;
    if (!leaf || typeof leaf.regex !== 'string' || typeof leaf.field !== 'string' || OPERATORS.some((o) => o !== 'regex' && leaf[o] !== undefined)) return;
    const nocase = leaf.nocase === true;
    const k = `${leaf.field}\u0000${nocase}`;
    const g = groups.get(k) ?? { field: leaf.field, nocase, patterns: [], at: [] };
    g.patterns.push(leaf.regex);
    g.at.push(i);
    groups.set(k, g);
  });
  const parts: Array<Matcher | undefined> = [...compiled];
  for (const g of groups.values()) {
    if (g.patterns.length < 2) continue;
    let re: RE2JS;
    try {
      re = RE2JS.compile(g.patterns.map((p) => `(?:${p})`).join('|'), g.nocase ? RE2JS.CASE_INSENSITIVE : 0);
    } catch {
      continue;
    }
    const get = getter(g.field);
    const field = g.field;
    for (const i of g.at) parts[i] = undefined;
    parts[g.at[0]] = (d) => fieldView(d, field, get).texts.some((s) => re.test(s));
  }
  return parts.filter((m): m is Matcher => m !== undefined);
}

function compileLeaf(leaf: Leaf, ctx: CompileContext, path: Array<string | number>): Matcher {
  if (typeof leaf.field !== 'string' || !leaf.field) throw new ConditionError(path, 'expected all, any, not, macro, or field with an operator');
  const ops = OPERATORS.filter((o) => leaf[o] !== undefined);
  const unknown = Object.keys(leaf).filter((k) => k !== 'field' && k !== 'nocase' && !(OPERATORS as readonly string[]).includes(k));
  if (unknown.length) throw new ConditionError([...path, unknown[0]], `unknown operator "${unknown[0]}" (known: ${OPERATORS.join(', ')})`);
  if (ops.length !== 1) throw new ConditionError(path, `field ${leaf.field}: exactly one operator expected, found ${ops.length ? ops.join(', ') : 'none'}`);
  const op = ops[0];
  const field = leaf.field;
  const get = getter(field);
  const nocase = leaf.nocase === true;
  const norm = (v: unknown) => (nocase ? String(v).toLowerCase() : String(v));
  // "@name" stands for the list of that name (for `in` it must exist; elsewhere a string that names
  // no list is taken literally).
  const resolved = (v: unknown): unknown => (typeof v === 'string' && v.startsWith('@') && ctx.lists[v.slice(1)] ? ctx.lists[v.slice(1)] : v);
  // Values are spelled as the field's text is (canonical.ts): a rule written `/etc//shadow` meets `/etc/shadow`.
  const strings = (v: unknown): string[] => (Array.isArray(v) ? v : [resolved(v)]).flat().map((x) => norm(canonicalLiteral(field, String(x))));
  // The field's text as the rules see it (cut, shared by every rule on the document), in the case
  // the operator compares in.
  const texts: (d: Doc) => string[] = nocase ? (d) => fieldView(d, field, get).lower() : (d) => fieldView(d, field, get).texts;
  const test = (pred: (s: string) => boolean): Matcher => (d) => texts(d).some(pred);
  const at = [...path, op];
  switch (op) {
    case 'exists':
      return leaf.exists ? (d) => fieldView(d, field, get).values.length > 0 : (d) => fieldView(d, field, get).values.length === 0;
    case 'equals':
    case 'in': {
      let values = leaf[op] as unknown;
      if (typeof values === 'string' && op === 'in') {
        if (!values.startsWith('@') || !ctx.lists[values.slice(1)]) throw new ConditionError(at, `unknown list "${values}" (lists are referred to as "@name")`);
        values = ctx.lists[values.slice(1)];
      }
      const set = new Set(strings(values));
      return test((s) => set.has(s));
    }
    case 'contains':
    case 'startswith':
    case 'endswith': {
      const needles = strings(leaf[op]);
      if (needles.some((n) => n === '')) throw new ConditionError(at, 'an empty string matches everything');
      const fn = op === 'contains' ? (s: string, n: string) => s.includes(n) : op === 'startswith' ? (s: string, n: string) => s.startsWith(n) : (s: string, n: string) => s.endsWith(n);
      return test((s) => needles.some((n) => fn(s, n)));
    }
    case 'regex': {
      let re: RE2JS;
      try {
        re = RE2JS.compile(String(leaf.regex), nocase ? RE2JS.CASE_INSENSITIVE : 0);
      } catch (err) {
        throw new ConditionError(at, `invalid RE2 pattern ${JSON.stringify(leaf.regex)}: ${(err as Error).message}`);
      }
      // test() asks for no submatch positions, which lets RE2JS run its DFA: about ten times less
      // than matcher().find() (the NFA) on long text.
      return (d) => fieldView(d, field, get).texts.some((s) => re.test(s));
    }
    case 'cidr': {
      const list = new BlockList();
      for (const net of strings(leaf.cidr)) {
        const [addr, bits] = net.split('/');
        const family = isIP(addr);
        if (!family || bits === undefined || Number.isNaN(Number(bits))) throw new ConditionError(at, `"${net}" is not a CIDR block`);
        list.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
      }
      return (d) => fieldView(d, field, get).texts.some((s) => {
        const family = isIP(s);
        return family !== 0 && list.check(s, family === 6 ? 'ipv6' : 'ipv4');
      });
    }
    default: {
      const limit = leaf[op] as number;
      if (typeof limit !== 'number') throw new ConditionError(at, `${op} takes a number`);
      const cmp = op === 'gt' ? (x: number) => x > limit : op === 'gte' ? (x: number) => x >= limit : op === 'lt' ? (x: number) => x < limit : (x: number) => x <= limit;
      return (d) => fieldView(d, field, get).values.some((v) => (typeof v === 'number' ? cmp(v) : typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) && cmp(Number(v))));
    }
  }
}

/** All values at a dotted path; arrays on the way are walked, so a.b over [{b:1},{b:2}] is [1,2]. */
export function getter(field: string): (doc: Doc) => unknown[] {
  const parts = field.split('.');
  return (doc) => {
    let cur: unknown[] = [doc];
    for (const p of parts) {
      const next: unknown[] = [];
      for (const c of cur) {
        // Own properties only: a rule on `x.toString` or `x.__proto__` reads data, not Object.prototype.
        if (c === null || typeof c !== 'object' || !Object.prototype.hasOwnProperty.call(c, p)) continue;
        const v = (c as Record<string, unknown>)[p];
        if (v === undefined || v === null) continue;
        if (Array.isArray(v)) next.push(...v);
        else next.push(v);
      }
      cur = next;
      if (cur.length === 0) return cur;
    }
    return cur;
  };
}
