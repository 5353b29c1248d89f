import { toKql } from './filters';
import type { Bucket, LensPanel, Metric } from './model';

type Column = Record<string, unknown>;

const LENS_TYPE: Record<LensPanel['viz'], string> = {
  metric: 'lnsMetric', bar_stacked: 'lnsXY', line: 'lnsXY', area_stacked: 'lnsXY', bar_horizontal: 'lnsXY', table: 'lnsDatatable', donut: 'lnsPie',
};

export const layerId = (p: LensPanel): string => `layer-${p.id}`;
export const bucketId = (i: number): string => `b${i}`;
export const metricId = (i: number): string => `m${i}`;

function metricColumn(m: Metric): Column {
  if (m.op === 'count') {
    return { label: m.label ?? 'Count of records', dataType: 'number', operationType: 'count', isBucketed: false, scale: 'ratio', sourceField: '___records___', params: { emptyAsNull: true }, customLabel: !!m.label };
  }
  const names: Record<string, string> = { sum: 'Sum', average: 'Average', min: 'Minimum', max: 'Maximum', median: 'Median', unique_count: 'Unique count' };
  return {
    label: m.label ?? `${names[m.op]} of ${m.field}`, dataType: 'number', operationType: m.op, isBucketed: false, scale: 'ratio',
    sourceField: m.field, params: { emptyAsNull: true }, customLabel: !!m.label,
  };
}

function bucketColumn(b: Bucket, orderBy: string): Column {
  if (b.op === 'date_histogram') {
    return { label: '@timestamp', dataType: 'date', operationType: 'date_histogram', isBucketed: true, scale: 'interval', sourceField: b.field ?? '@timestamp', params: { interval: 'auto', includeEmptyRows: true, dropPartials: false } };
  }
  return {
    label: b.label ?? `Top ${b.size} values of ${b.field}`, dataType: 'string', operationType: 'terms', isBucketed: true, scale: 'ordinal', sourceField: b.field, customLabel: !!b.label,
    params: { size: b.size, orderBy: { type: 'column', columnId: orderBy }, orderDirection: 'desc', otherBucket: true, missingBucket: false, parentFormat: { id: 'terms' }, include: [], exclude: [], includeIsRegex: false, excludeIsRegex: false },
  };
}

function visualization(p: LensPanel): Record<string, unknown> {
  const lid = layerId(p);
  const metrics = p.metrics.map((_, i) => metricId(i));
  const buckets = p.buckets.map((_, i) => bucketId(i));
  const date = p.buckets.findIndex((b) => b.op === 'date_histogram');
  const split = p.buckets.findIndex((b) => b.op === 'terms');
  switch (p.viz) {
    case 'metric':
      return { layerId: lid, layerType: 'data', metricAccessor: metrics[0], ...(split >= 0 ? { breakdownByAccessor: bucketId(split) } : {}) };
    case 'table':
      return { layerId: lid, layerType: 'data', columns: [...buckets, ...metrics].map((columnId) => ({ columnId })), paging: { enabled: true, size: 10 }, rowHeight: 'single', headerRowHeight: 'single' };
    case 'donut':
      return {
        shape: 'donut', palette: { type: 'palette', name: 'default' },
        layers: [{ layerId: lid, layerType: 'data', primaryGroups: buckets, secondaryGroups: [], metrics: [metrics[0]], numberDisplay: 'percent', categoryDisplay: 'default', legendDisplay: 'show', nestedLegend: false, percentDecimals: 2, emptySizeRatio: 0.3, legendPosition: 'right' }],
      };
    default: {
      // A time axis when there is a date bucket; otherwise the terms bucket is the axis (bars per value).
      const x = date >= 0 ? bucketId(date) : bucketId(split);
      const splitBy = date >= 0 && split >= 0 ? bucketId(split) : undefined;
      return {
        preferredSeriesType: p.viz, valueLabels: 'hide', legend: { isVisible: true, position: 'right' },
        layers: [{ layerId: lid, layerType: 'data', seriesType: p.viz, xAccessor: x, accessors: metrics, ...(splitBy ? { splitAccessor: splitBy } : {}), isHistogram: date >= 0, ...(date >= 0 ? { xScaleType: 'time' } : {}) }],
      };
    }
  }
}

/** The Lens attributes of a by-value panel (`embeddableConfig.attributes`). */
export function lensAttributes(p: LensPanel): Record<string, unknown> {
  if (!p.metrics.length) throw new Error(`panel ${p.id}: a Lens layer needs a metric`);
  const columns: Record<string, Column> = {};
  p.buckets.forEach((b, i) => (columns[bucketId(i)] = bucketColumn(b, metricId(0))));
  p.metrics.forEach((m, i) => (columns[metricId(i)] = metricColumn(m)));
  return {
    title: p.title,
    description: '',
    visualizationType: LENS_TYPE[p.viz],
    type: 'lens',
    state: {
      datasourceStates: {
        formBased: { layers: { [layerId(p)]: { columnOrder: [...p.buckets.map((_, i) => bucketId(i)), ...p.metrics.map((_, i) => metricId(i))], columns, incompleteColumns: {}, sampling: 1 } } },
        textBased: { layers: {} },
      },
      visualization: visualization(p),
      query: { language: 'kuery', query: toKql(p.where) },
      filters: [],
      adHocDataViews: {},
      internalReferences: [],
    },
    references: [{ type: 'index-pattern', id: p.dataView, name: `indexpattern-datasource-layer-${layerId(p)}` }],
  };
}
