/**
 * The typed source of dockward's Kibana assets. Panels and searches are written in these terms
 * (fields, filters, buckets, metrics) and rendered twice: into the saved-object JSON Kibana imports
 * and into the Elasticsearch search that fetches the same data, so the tests can run the second
 * over real documents and know they exercised the first.
 */

export type Scalar = string | number | boolean;

/** A condition on one field. Rendered as KQL for Kibana and as query DSL for the equivalence. */
export type Filter =
  | { field: string; is: Scalar | Scalar[] }
  | { field: string; exists: true }
  | { not: Filter };

export type MetricOp = 'count' | 'sum' | 'average' | 'min' | 'max' | 'median' | 'unique_count';
export type Metric = { op: 'count'; label?: string } | { op: Exclude<MetricOp, 'count'>; field: string; label?: string };

export type Bucket =
  | { op: 'date_histogram'; field?: string }
  | { op: 'terms'; field: string; size: number; label?: string };

export type Visualization = 'metric' | 'bar_stacked' | 'line' | 'area_stacked' | 'bar_horizontal' | 'table' | 'donut';

/** One by-value Lens panel: one layer on one data view. */
export interface LensPanel {
  kind: 'lens';
  /** The dashboard's panelIndex; unique within the dashboard. */
  id: string;
  title: string;
  viz: Visualization;
  dataView: string;
  where?: Filter[];
  /** Outer to inner: the order Lens nests them (columnOrder) and the search nests its aggregations. */
  buckets: Bucket[];
  metrics: Metric[];
  w: number;
  h: number;
}

/** A by-reference panel showing a saved search. */
export interface SearchPanel {
  kind: 'search';
  id: string;
  title: string;
  search: string;
  w: number;
  h: number;
}

export type Panel = LensPanel | SearchPanel;

export interface DashboardSpec {
  id: string;
  title: string;
  description: string;
  timeFrom: string;
  panels: Panel[];
}

export interface DataViewSpec {
  id: string;
  name: string;
  /** The index pattern; always ends in the namespace wildcard `-*`. */
  title: string;
}

export interface SearchSpec {
  id: string;
  title: string;
  description: string;
  dataView: string;
  where: Filter[];
  columns: string[];
}

/** One NDJSON line as Kibana's `_import` reads it. */
export interface SavedObject {
  type: 'index-pattern' | 'search' | 'dashboard';
  id: string;
  attributes: Record<string, unknown>;
  references: Array<{ type: string; id: string; name: string }>;
  coreMigrationVersion: '8.8.0';
  typeMigrationVersion: string;
  managed: boolean;
}

/** The newest migration versions Kibana 9.0 knows (9.1 and 9.2 migrate them upward). */
export const MIGRATION_VERSION = { 'index-pattern': '8.0.0', search: '10.5.0', dashboard: '10.2.0', lens: '8.9.0' } as const;

/** Every field a panel, search or data view names; the tests check each against the templates. */
export function filterFields(f: Filter): string[] {
  return 'not' in f ? filterFields(f.not) : [f.field];
}
