import { BlockList, isIP } from 'node:net';
import { RE2JS } from 're2js';
import { getter, type Doc, type Matcher } from './condition';
import { canonicalLiteral } from './canonical';
import { fieldView, type FieldView } from './match-window';
import { anyOf, literalsOn, regexLiterals, withReq } from './prefilter';

/**
 * One Sigma field test (`Field|mod|mod: value or list`) compiled to a Matcher, with Sigma's value
 * semantics: case-insensitive unless `cased`, `*`/`?` wildcards with `\` escapes, a list is OR
 * (AND with `all`), modifiers applied in the order written (so `base64offset|contains` works and
 * `contains|base64` is rejected, as in pySigma).
 */

/** A problem at a path inside the rule document; the loader turns the path into a line. */
export class SigmaError extends Error {
  constructor(readonly path: Array<string | number>, message: string) {
    super(message);
  }
}

/**
 * Where a Sigma field is looked up. `name`: for Image-like fields, the basename field to fall back
 * on when the path is missing (`docker top` and exec often give only `process.name`).
 */
export interface Target {
  field: string;
  name?: string;
  /** Other fields that may hold the value instead (ECS user.name and process.user.name): any of them matches. */
  also?: string[];
}

type Tok = { k: 'lit'; s: string } | { k: '*' } | { k: '?' } | { k: 'dash' };
/** A wildcard value; start/end: anchored at the start/end of the field value. */
interface Pattern {
  toks: Tok[];
  start: boolean;
  end: boolean;
}
type Pred = (s: string) => boolean;
/** One value (with its expansions): the test on the field, and on the fallback name if any. */
interface Test {
  pred: Pred;
  name?: Pred;
  /** Literals one of which the value contains whenever `pred` holds (for the prefilter). */
  lits?: string[];
}

const TYPE_MODS = ['re', 'cidr', 'exists', 'lt', 'lte', 'gt', 'gte'] as const;
const STRING_MODS = ['contains', 'startswith', 'endswith', 'base64', 'base64offset', 'windash'];
const KNOWN_UNSUPPORTED = ['fieldref', 'expand', 'utf16', 'utf16le', 'utf16be', 'wide', 'minute', 'hour', 'day', 'week', 'month', 'year'];
/** The dash-like characters `windash` interchanges (Sigma v2). */
const DASHES = ['-', '/', '\u2013', '\u2014', '\u2015'];
const WORD = /[\p{L}\p{N}_]/u;

/**
 * Compiles `mods` applied to `raw` on `target`. `label` names the Sigma field (or "keywords") in
 * messages; `keyword`: a keyword search, which matches anywhere in the value.
 */
export function compileField(target: Target, label: string, mods: string[], raw: unknown, path: Array<string | number>, keyword = false): Matcher {
  const fail = (msg: string): never => {
    throw new SigmaError(path, `${label}: ${msg}`);
  };
  for (const m of mods) {
    if (KNOWN_UNSUPPORTED.includes(m)) fail(`modifier "${m}" is not supported`);
    if (![...TYPE_MODS, ...STRING_MODS, 'all', 'cased', 'neq', 'i', 'm', 's'].includes(m)) fail(`unknown modifier "${m}"`);
  }
  const types = mods.filter((m) => (TYPE_MODS as readonly string[]).includes(m));
  if (types.length > 1) fail(`modifiers ${types.join(' and ')} cannot be combined`);
  const type = types[0] as (typeof TYPE_MODS)[number] | undefined;
  if (type && mods.some((m) => STRING_MODS.includes(m))) fail(`modifier ${type} cannot be combined with ${mods.filter((m) => STRING_MODS.includes(m)).join(', ')}`);
  const reFlags = mods.filter((m) => m === 'i' || m === 'm' || m === 's');
  if (reFlags.length && type !== 're') fail(`modifier ${reFlags[0]} only applies after re`);
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) fail('an empty list matches nothing');
  if (values.some((v) => v !== null && typeof v === 'object')) fail('values are strings, numbers or null');

  // The field's text as every rule sees it: cut to its head and tail, once per document (match-window.ts).
  const field = target.field;
  const get = getter(field);
  const name = target.name;
  const getName = name ? getter(name) : undefined;
  const also = (target.also ?? []).map((f) => ({ f, get: getter(f) }));
  const view = also.length === 0 ? (d: Doc) => fieldView(d, field, get) : (d: Doc) => joinViews([fieldView(d, field, get), ...also.map((a) => fieldView(d, a.f, a.get))]);
  const nameView = getName && name ? (d: Doc) => fieldView(d, name, getName) : undefined;
  if (values.includes(null)) {
    if (values.length > 1 || mods.length) fail('null stands alone, without modifiers');
    // Absent or empty; for Image-like fields both the path and the name must be missing.
    return (d) => view(d).texts.every((s) => s === '') && (!nameView || nameView(d).texts.every((s) => s === ''));
  }
  if (type === 'exists') {
    if (values.length !== 1 || typeof values[0] !== 'boolean') fail('exists takes true or false');
    const want = values[0] === true;
    return (d) => (view(d).values.length > 0 || (nameView !== undefined && nameView(d).values.length > 0)) === want;
  }
  const cased = mods.includes('cased') || type === 're' || type === 'cidr';
  let tests: Test[];
  if (type === 're') tests = values.map((v) => regexTest(String(v), reFlags, fail));
  else if (type === 'cidr') tests = values.map((v) => cidrTest(String(v), fail));
  else if (type) tests = values.map((v) => numericTest(type, v, fail));
  else tests = stringTests(values as Array<string | number | boolean>, mods, keyword, cased, target, fail);

  const combine = mods.includes('all') ? (f: (t: Test) => boolean) => tests.every(f) : (f: (t: Test) => boolean) => tests.some(f);
  const match: Matcher = (d: Doc) => {
    const v = view(d);
    const xs = cased ? v.texts : v.lower();
    if (xs.length || !nameView) return combine((t) => xs.some(t.pred));
    const n = nameView(d);
    const names = cased ? n.texts : n.lower();
    return names.length > 0 && combine((t) => t.name !== undefined && names.some(t.name));
  };
  if (mods.includes('neq')) return (d) => !match(d);
  // With a name fallback the value may be absent and the name match instead: no requirement then.
  const lits = tests.every((t) => t.lits) ? tests.flatMap((t) => t.lits!) : undefined;
  return withReq(match, !getName && lits ? anyOf([target.field, ...also.map((a) => a.f)].map((f) => literalsOn(f, lits))) : undefined);
}

/** The values and texts of several fields as one field's. */
function joinViews(views: FieldView[]): Pick<FieldView, 'values' | 'texts' | 'lower'> {
  if (views.length === 1) return views[0];
  return { values: views.flatMap((v) => v.values), texts: views.flatMap((v) => v.texts), lower: () => views.flatMap((v) => v.lower()) };
}

function stringTests(values: Array<string | number | boolean>, mods: string[], keyword: boolean, cased: boolean, target: Target, fail: (m: string) => never): Test[] {
  const fallback = target.name !== undefined;
  return values.map((v) => {
    // Numbers and booleans compare as their text; only strings carry wildcards.
    let exp: Pattern[] = [typeof v === 'string' ? wildcards(v) : { toks: [{ k: 'lit', s: String(v) }], start: true, end: true }];
    if (keyword) exp = exp.map((p) => ({ ...p, start: false, end: false }));
    for (const m of mods) {
      if (m === 'contains' || m === 'startswith' || m === 'endswith') {
        exp = exp.map((p) => ({ ...p, start: p.start && m === 'startswith', end: p.end && m === 'endswith' }));
      } else if (m === 'windash') {
        exp = exp.map((p) => ({ ...p, toks: p.toks.flatMap(windash) }));
      } else if (m === 'base64' || m === 'base64offset') {
        exp = exp.flatMap((p) => {
          if (!p.start || !p.end || p.toks.some((t) => t.k !== 'lit')) fail(`${m} of a value with wildcards (apply contains/startswith/endswith after ${m})`);
          const text = p.toks.map((t) => (t as { s: string }).s).join('');
          return (m === 'base64' ? [Buffer.from(text, 'utf8').toString('base64')] : base64Offsets(text)).map((s) => ({ toks: [{ k: 'lit' as const, s }], start: true, end: true }));
        });
      }
    }
    // The value's literal parts in the spelling the field's text has (canonical.ts); a part that
    // was only quotes is gone from the text too.
    exp = exp.map((p) => ({ ...p, toks: p.toks.map((t) => (t.k === 'lit' ? { k: 'lit' as const, s: canonicalPart(target.field, t.s) } : t)).filter((t) => t.k !== 'lit' || t.s !== '') }));
    const preds = exp.map((p) => compilePattern(p, cased));
    const names = fallback ? exp.map((p) => nameFallback(p)).filter((p): p is Pattern => !!p).map((p) => compilePattern(p, cased)) : [];
    const longest = exp.map((p) => p.toks.filter((t): t is { k: 'lit'; s: string } => t.k === 'lit').map((t) => t.s).sort((a, b) => b.length - a.length)[0]);
    return {
      pred: (s: string) => preds.some((f) => f(s)),
      name: names.length ? (s: string) => names.some((f) => f(s)) : undefined,
      lits: longest.every((l) => l) ? (longest as string[]) : undefined,
    };
  });
}

/** Sigma wildcards: `*`, `?`; `\` escapes `*`, `?` and itself, and is literal before anything else. */
function wildcards(v: string): Pattern {
  const toks: Tok[] = [];
  let lit = '';
  const flush = () => {
    if (lit) toks.push({ k: 'lit', s: lit });
    lit = '';
  };
  for (let i = 0; i < v.length; i++) {
    const c = v[i];
    if (c === '\\' && i + 1 < v.length && '*?\\'.includes(v[i + 1])) lit += v[++i];
    else if (c === '*' || c === '?') {
      flush();
      toks.push({ k: c });
    } else lit += c;
  }
  flush();
  let start = true;
  let end = true;
  while (toks[0]?.k === '*') {
    toks.shift();
    start = false;
  }
  while (toks[toks.length - 1]?.k === '*') {
    toks.pop();
    end = false;
  }
  return { toks, start, end };
}

/** pySigma's windash: a `-` or `/` after a non-word character and before a word character. */
function windash(t: Tok): Tok[] {
  if (t.k !== 'lit') return [t];
  const out: Tok[] = [];
  let lit = '';
  for (let i = 0; i < t.s.length; i++) {
    const c = t.s[i];
    if ((c === '-' || c === '/') && !WORD.test(t.s[i - 1] ?? ' ') && WORD.test(t.s[i + 1] ?? ' ')) {
      if (lit) out.push({ k: 'lit', s: lit });
      lit = '';
      out.push({ k: 'dash' });
    } else lit += c;
  }
  if (lit) out.push({ k: 'lit', s: lit });
  return out;
}

/**
 * The three base64 forms of `text` at byte offsets 0, 1 and 2 of an encoded stream, without the
 * characters that depend on the neighbouring bytes (Sigma's base64offset, as pySigma computes it).
 */
export function base64Offsets(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  const starts = [0, 2, 3];
  const ends = [undefined, -3, -2];
  return [0, 1, 2].map((i) => Buffer.concat([Buffer.alloc(i, 0x20), bytes]).toString('base64').slice(starts[i], ends[(bytes.length + i) % 3]));
}

/**
 * For Image-like fields when only the process name is known: the part of the pattern after its
 * last `/` is tried on the name, anchored at its start. The directory before it is unknown: it is
 * assumed to fit when the pattern is anchored at the end (`endswith: /nc`, `equals: /usr/bin/nc`
 * accept name `nc`, the common Sigma idioms), and when nothing precedes the slash
 * (`contains: /python` accepts `python3`); otherwise (`startswith: /tmp/`, `contains: /tmp/x`) the
 * directory is what the rule is about, and the name alone matches nothing. A pattern without `/`
 * is tried on the name as it is.
 */
function nameFallback(p: Pattern): Pattern | undefined {
  for (let i = p.toks.length - 1; i >= 0; i--) {
    const t = p.toks[i];
    if (t.k !== 'lit' || !t.s.includes('/')) continue;
    const slash = t.s.lastIndexOf('/');
    const unconstrained = !p.start && slash === 0 && p.toks.slice(0, i).every((x) => x.k === '*');
    if (!p.end && !unconstrained) return undefined;
    const rest = t.s.slice(slash + 1);
    const toks: Tok[] = [...(rest ? [{ k: 'lit' as const, s: rest }] : []), ...p.toks.slice(i + 1)];
    return toks.length ? { toks, start: true, end: p.end } : undefined;
  }
  return p;
}

function canonicalPart(field: string, s: string): string {
  const c = canonicalLiteral(field, s);
  return c === s || c.trim() !== '' ? c : '';
}

function compilePattern(p: Pattern, cased: boolean): Pred {
  const toks = cased ? p.toks : p.toks.map((t) => (t.k === 'lit' ? { k: 'lit' as const, s: t.s.toLowerCase() } : t));
  if (toks.every((t) => t.k === 'lit')) {
    // Plain literals: string operations, far cheaper than a regex on every document.
    const s = toks.map((t) => (t as { s: string }).s).join('');
    if (p.start && p.end) return (x) => x === s;
    if (p.start) return (x) => x.startsWith(s);
    if (p.end) return (x) => x.endsWith(s);
    return (x) => x.includes(s);
  }
  const body = toks.map((t) => (t.k === 'lit' ? RE2JS.quote(t.s) : t.k === '*' ? '.*' : t.k === '?' ? '.' : `[${DASHES.map((c) => RE2JS.quote(c)).join('')}]`)).join('');
  const re = RE2JS.compile(`${p.start ? '^' : ''}${body}${p.end ? '$' : ''}`, RE2JS.DOTALL);
  return (x) => re.test(x);
}

function regexTest(pattern: string, flags: string[], fail: (m: string) => never): Test {
  let re: RE2JS;
  const bits = (flags.includes('i') ? RE2JS.CASE_INSENSITIVE : 0) | (flags.includes('m') ? RE2JS.MULTILINE : 0) | (flags.includes('s') ? RE2JS.DOTALL : 0);
  try {
    re = RE2JS.compile(pattern, bits);
  } catch (err) {
    fail(`invalid RE2 pattern ${JSON.stringify(pattern)}: ${(err as Error).message}`);
  }
  // The name fallback sees the name as a path in an unknown directory.
  // test(): no submatch positions wanted, so RE2JS can run its DFA rather than the NFA.
  return { pred: (s) => re.test(s), name: (s) => re.test(`/${s}`), lits: regexLiterals(pattern) };
}

function cidrTest(net: string, fail: (m: string) => never): Test {
  const [addr, bits] = net.split('/');
  const family = isIP(addr);
  if (!family || bits === undefined || !/^\d+$/.test(bits)) fail(`"${net}" is not a CIDR block`);
  const list = new BlockList();
  list.addSubnet(addr, Number(bits), family === 6 ? 'ipv6' : 'ipv4');
  return {
    pred: (s) => {
      const f = isIP(s);
      return f !== 0 && list.check(s, f === 6 ? 'ipv6' : 'ipv4');
    },
  };
}

function numericTest(op: 'lt' | 'lte' | 'gt' | 'gte', v: unknown, fail: (m: string) => never): Test {
  const limit = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  if (Number.isNaN(limit)) fail(`${op} takes a number`);
  const cmp = op === 'lt' ? (x: number) => x < limit : op === 'lte' ? (x: number) => x <= limit : op === 'gt' ? (x: number) => x > limit : (x: number) => x >= limit;
  return { pred: (s) => s.trim() !== '' && !Number.isNaN(Number(s)) && cmp(Number(s)) };
}
