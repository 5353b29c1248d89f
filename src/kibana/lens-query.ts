import type { AggregationsAggregationContainer, SearchRequest } from '@elastic/elasticsearch/lib/api/types';
import { toDsl } from './filters';
import type { LensPanel, Metric, SearchSpec } from './model';
import { bucketId, metricId } from './lens';

const ES_METRIC = { sum: 'sum', average: 'avg', min: 'min', max: 'max', median: 'percentiles', unique_count: 'cardinality' } as const;

function metricAgg(m: Exclude<Metric, { op: 'count' }>): AggregationsAggregationContainer {
  if (m.op === 'median') return { percentiles: { field: m.field, percents: [50] } };
  return { [ES_METRIC[m.op]]: { field: m.field } } as AggregationsAggregationContainer;
}

/**
 * The search Kibana's Lens runs for a panel, built from the panel's own definition: its data view's
 * pattern (namespace narrowed for a test), its KQL as DSL, its buckets nested in column order and
 * its metrics innermost; terms ordered by the first metric as the column's orderBy says.
 */
export function panelSearch(p: LensPanel, index: string, range: { gte: string; lte?: string; interval: string }): SearchRequest {
  const metrics: Record<string, AggregationsAggregationContainer> = {};
  p.metrics.forEach((m, i) => {
    if (m.op !== 'count') metrics[metricId(i)] = metricAgg(m);
  });
  const first = p.metrics[0];
  const order = first.op === 'count' ? { _count: 'desc' as const } : first.op === 'median' ? { [`${metricId(0)}.50`]: 'desc' as const } : { [metricId(0)]: 'desc' as const };
  let aggs: Record<string, AggregationsAggregationContainer> = metrics;
  for (let i = p.buckets.length - 1; i >= 0; i--) {
    const b = p.buckets[i];
    // Each level carries the metrics too: a terms bucket is ordered by the metric at its own level, as Lens's orderAgg does.
    const inner = Object.keys(aggs).length ? { aggs: i === p.buckets.length - 1 ? aggs : { ...aggs, ...metrics } } : {};
    aggs = {
      [bucketId(i)]: b.op === 'date_histogram'
        ? { date_histogram: { field: b.field ?? '@timestamp', fixed_interval: range.interval, min_doc_count: 0 }, ...inner }
        : { terms: { field: b.field, size: b.size, order }, ...inner },
    };
  }
  const query = toDsl([...(p.where ?? [])]);
  (query.bool!.filter as unknown[]).push({ range: { '@timestamp': { gte: range.gte, ...(range.lte ? { lte: range.lte } : {}) } } });
  return { index, size: 0, track_total_hits: true, query, aggs, ignore_unavailable: true, allow_no_indices: true };
}

/** The search Discover runs for a saved search: its KQL, newest first, its columns. */
export function savedSearchRequest(s: SearchSpec, index: string): SearchRequest {
  return { index, size: 50, query: toDsl(s.where), sort: [{ '@timestamp': 'desc' }], fields: s.columns, _source: false, track_total_hits: true };
}

/** A data view's pattern narrowed to one namespace: `logs-dockward.alert-*` → `logs-dockward.alert-<ns>`. */
export function narrow(title: string, namespace: string): string {
  if (!title.endsWith('-*')) throw new Error(`data view ${title} does not end in the namespace wildcard`);
  return `${title.slice(0, -1)}${namespace}`;
}
