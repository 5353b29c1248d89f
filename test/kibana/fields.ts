import type { LensPanel, SearchSpec } from '../../src/kibana/model';
import { filterFields } from '../../src/kibana/model';
import { dockwardMappings } from '../../src/setup/mappings';

type Node = { type?: string; properties?: Record<string, Node>; index?: boolean; doc_values?: boolean };

/** Every leaf field of dockward's mappings with its type (multi-fields left out: panels never use them). */
export function templateFields(): Map<string, Node> {
  const out = new Map<string, Node>();
  const walk = (props: Record<string, Node>, prefix: string) => {
    for (const [k, v] of Object.entries(props)) {
      if (v.properties) walk(v.properties, `${prefix}${k}.`);
      else out.set(`${prefix}${k}`, v);
    }
  };
  walk((dockwardMappings() as { properties: Record<string, Node> }).properties, '');
  return out;
}

/** Types whose doc values Lens can bucket and aggregate on (text-like and flattened roots are not). */
export const AGGREGATABLE = new Set(['keyword', 'constant_keyword', 'wildcard', 'long', 'integer', 'short', 'byte', 'float', 'double', 'scaled_float', 'date', 'date_nanos', 'boolean', 'ip']);

/** Fields a panel aggregates (buckets, metrics) and fields it only filters on. */
export function panelFields(p: LensPanel): { aggregated: string[]; filtered: string[] } {
  return {
    aggregated: [...p.buckets.map((b) => (b.op === 'terms' ? b.field : b.field ?? '@timestamp')), ...p.metrics.flatMap((m) => (m.op === 'count' ? [] : [m.field]))],
    filtered: (p.where ?? []).flatMap(filterFields),
  };
}

export function searchFields(s: SearchSpec): string[] {
  return [...s.columns, ...s.where.flatMap(filterFields)];
}
