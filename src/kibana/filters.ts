import type { QueryDslQueryContainer } from '@elastic/elasticsearch/lib/api/types';
import type { Filter, Scalar } from './model';

function kqlValue(v: Scalar): string {
  return typeof v === 'string' ? JSON.stringify(v) : String(v);
}

/** KQL for Kibana. Values are always quoted so a `*` or `:` in them is never syntax. */
export function toKql(filters: Filter[] = []): string {
  return filters.map(one).join(' and ');
  function one(f: Filter): string {
    if ('not' in f) return `not (${one(f.not)})`;
    if ('exists' in f) return `${f.field} : *`;
    const vals = Array.isArray(f.is) ? f.is : [f.is];
    return vals.length === 1 ? `${f.field} : ${kqlValue(vals[0])}` : `${f.field} : (${vals.map(kqlValue).join(' or ')})`;
  }
}

/** The query DSL Kibana's KQL compiler produces for the same filters (term-level on keyword fields). */
export function toDsl(filters: Filter[] = []): QueryDslQueryContainer {
  return { bool: { filter: filters.map(one) } };
  function one(f: Filter): QueryDslQueryContainer {
    if ('not' in f) return { bool: { must_not: [one(f.not)] } };
    if ('exists' in f) return { exists: { field: f.field } };
    const vals = Array.isArray(f.is) ? f.is : [f.is];
    // KQL turns a quoted value into match_phrase and a bare one (number, boolean) into match.
    return { bool: { should: vals.map((v): QueryDslQueryContainer => (typeof v === 'string' ? { match_phrase: { [f.field]: v } } : { match: { [f.field]: { query: v } } })), minimum_should_match: 1 } };
  }
}
