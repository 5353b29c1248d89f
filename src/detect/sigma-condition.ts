import { glob } from '../config/glob';
import type { Matcher } from './condition';
import { allOf, anyOf, reqOf, withReq } from './prefilter';

/**
 * Sigma's condition language, parsed by recursive descent straight into Matchers (no eval):
 *
 *   or   := and ('or' and)*
 *   and  := not ('and' not)*
 *   not  := 'not' not | atom
 *   atom := '(' or ')' | ('1' | 'any' | 'all') 'of' (pattern | 'them') | identifier
 *
 * so `not` binds tighter than `and`, which binds tighter than `or`. `them` means every search
 * identifier not starting with `_`; a pattern may use `*`. Aggregations (`| count() …`, `near`)
 * are rejected: they need state across events, which a per-document matcher has not.
 */
export class SigmaConditionError extends Error {}

const KEYWORDS = new Set(['and', 'or', 'not', 'of', 'them', '(', ')']);

export function compileSigmaCondition(text: string, searches: ReadonlyMap<string, Matcher>): Matcher {
  if (/\|/.test(text) || /(^|\s)near(\s|$)/i.test(text)) throw new SigmaConditionError(`aggregations are not supported: "${text.trim()}"`);
  const toks = text.match(/\(|\)|[^\s()]+/g) ?? [];
  if (toks.length === 0) throw new SigmaConditionError('empty condition');
  let pos = 0;
  const peek = () => toks[pos]?.toLowerCase();
  const unexpected = (): never => {
    throw new SigmaConditionError(pos < toks.length ? `unexpected "${toks[pos]}" in "${text.trim()}"` : `"${text.trim()}" ends too early`);
  };

  const or = (): Matcher => {
    const parts = [and()];
    while (peek() === 'or') {
      pos++;
      parts.push(and());
    }
    return parts.length === 1 ? parts[0] : withReq((d) => parts.some((m) => m(d)), anyOf(parts.map(reqOf)));
  };
  const and = (): Matcher => {
    const parts = [not()];
    while (peek() === 'and') {
      pos++;
      parts.push(not());
    }
    return parts.length === 1 ? parts[0] : withReq((d) => parts.every((m) => m(d)), allOf(parts.map(reqOf)));
  };
  const not = (): Matcher => {
    if (peek() !== 'not') return atom();
    pos++;
    const inner = not();
    return (d) => !inner(d);
  };
  const atom = (): Matcher => {
    const t = peek();
    if (t === '(') {
      pos++;
      const inner = or();
      if (peek() !== ')') unexpected();
      pos++;
      return inner;
    }
    if (t === undefined || KEYWORDS.has(t)) return unexpected();
    if (toks[pos + 1]?.toLowerCase() === 'of') {
      if (t !== '1' && t !== 'any' && t !== 'all') throw new SigmaConditionError(`"${toks[pos]} of" is not supported (use 1 of, any of or all of)`);
      const target = toks[pos + 2];
      if (target === undefined || (KEYWORDS.has(target.toLowerCase()) && target.toLowerCase() !== 'them')) {
        pos += 2;
        return unexpected();
      }
      pos += 3;
      const names = [...searches.keys()].filter(target.toLowerCase() === 'them' ? (n) => !n.startsWith('_') : glob(target));
      if (names.length === 0) throw new SigmaConditionError(`"${target}" names no search identifier`);
      const parts = names.map((n) => searches.get(n) as Matcher);
      return t === 'all' ? withReq((d) => parts.every((m) => m(d)), allOf(parts.map(reqOf))) : withReq((d) => parts.some((m) => m(d)), anyOf(parts.map(reqOf)));
    }
    pos++;
    const m = searches.get(toks[pos - 1]);
    if (!m) throw new SigmaConditionError(`unknown search identifier "${toks[pos - 1]}"`);
    return m;
  };

  const m = or();
  if (pos < toks.length) unexpected();
  return m;
}
