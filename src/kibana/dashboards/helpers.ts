import type { Bucket, Filter, LensPanel, Metric, SearchPanel } from '../model';

/** Shorthands that keep each dashboard file a readable list of panels. */
export const count = (label?: string): Metric => ({ op: 'count', label });
export const over = (): Bucket => ({ op: 'date_histogram' });
export const top = (field: string, size: number, label?: string): Bucket => ({ op: 'terms', field, size, label });

export function lens(id: string, title: string, viz: LensPanel['viz'], dataView: string, body: { buckets?: Bucket[]; metrics: Metric[]; where?: Filter[]; w?: number; h?: number }): LensPanel {
  return { kind: 'lens', id, title, viz, dataView, buckets: body.buckets ?? [], metrics: body.metrics, where: body.where, w: body.w ?? 24, h: body.h ?? 15 };
}

export function searchPanel(id: string, title: string, search: string, w = 48, h = 15): SearchPanel {
  return { kind: 'search', id, title, search, w, h };
}

export const CONTAINER_LOGS: Filter = { field: 'data_stream.dataset', is: 'dockward.container' };
export const STARTS: Filter = { field: 'event.type', is: 'start' };
export const EXEC: Filter = { field: 'event.provider', is: 'exec' };
export const HEARTBEAT: Filter = { field: 'event.action', is: 'heartbeat' };
