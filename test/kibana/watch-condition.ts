import type { WatcherConditionContainer } from '@elastic/elasticsearch/lib/api/types';

/**
 * Watcher's `compare` and `array_compare` conditions, evaluated as Watcher does over a watch's
 * payload (`ctx.payload.…` paths, dotted, array indices as numbers). The test cluster has no
 * Watcher; the search the watch runs is real, this is the comparison at its end.
 */
function resolve(root: unknown, path: string): unknown {
  return path.split('.').reduce<unknown>((cur, key) => (cur == null ? undefined : (cur as Record<string, unknown>)[key]), root);
}

type Op = 'eq' | 'not_eq' | 'gt' | 'gte' | 'lt' | 'lte';
function test(op: Op, actual: unknown, expected: unknown): boolean {
  if (actual === undefined || actual === null) return op === 'not_eq' ? expected !== null : expected === null && op === 'eq';
  const a = actual as number, e = expected as number;
  switch (op) {
    case 'eq': return a === e;
    case 'not_eq': return a !== e;
    case 'gt': return a > e;
    case 'gte': return a >= e;
    case 'lt': return a < e;
    case 'lte': return a <= e;
  }
}

export function conditionMet(condition: WatcherConditionContainer, ctx: { payload: unknown; metadata?: unknown }): boolean {
  const root = { ctx };
  if (condition.always) return true;
  if (condition.never) return false;
  if (condition.compare) {
    const [[path, ops]] = Object.entries(condition.compare);
    const [[op, value]] = Object.entries(ops as Record<string, unknown>);
    return test(op as Op, resolve(root, path), value);
  }
  if (condition.array_compare) {
    const [[path, spec]] = Object.entries(condition.array_compare as Record<string, Record<string, unknown>>);
    // As Watcher's ArrayCompareCondition: a missing path is an empty array, anything else not an array is an error.
    const arr = resolve(root, path) ?? [];
    if (!Array.isArray(arr)) throw new Error(`${path} is not an array in the payload`);
    const { path: inner, ...ops } = spec as { path?: string } & Record<string, { value: unknown; quantifier?: 'some' | 'all' }>;
    const [[op, { value, quantifier }]] = Object.entries(ops);
    const hits = arr.map((el) => test(op as Op, inner ? resolve(el, inner) : el, value));
    return quantifier === 'all' ? hits.length > 0 && hits.every(Boolean) : hits.some(Boolean);
  }
  throw new Error(`condition ${Object.keys(condition)} is not evaluated here`);
}
