import type { Client } from '@elastic/elasticsearch';
import { fetchAll } from '../elasticsearch';

/**
 * What the runner reads back from Elasticsearch: the watermark that says a container's documents
 * were processed, its log lines, and the alerts and signals dockward raised on it.
 */
export const MARK_DONE = '/tmp/dwsuite-done';
export const MARK_END = '/tmp/dwsuite-end';

export interface AlertDoc {
  _id: string;
  '@timestamp': string;
  rule?: { id?: string; name?: string };
  threat?: { technique?: { id?: string | string[]; subtechnique?: { id?: string | string[] } } };
  container?: { id?: string; name?: string };
  process?: { command_line?: string };
  file?: { path?: string };
  dockward?: { alert?: { group_id?: string; count?: number; summary?: boolean } };
}

export function streams(ns: string) {
  return {
    logs: `logs-dockward.container-${ns}`,
    files: `logs-dockward.file-${ns}`,
    alerts: `logs-dockward.alert-${ns}`,
    signals: `logs-dockward.signal-${ns}`,
  };
}

/**
 * Containers (of `ids`) whose drift scan reported the marker file: every scan before it, and every
 * process and log document of what ran before the marker was written, went through detection.
 */
export async function markedContainers(es: Client, ns: string, ids: string[], marker: string): Promise<Set<string>> {
  // Polled every second: no refresh of its own (the index refreshes each second anyway) and no
  // scroll, which on the shared node's small heap tripped its circuit breaker.
  const index = streams(ns).files;
  const r = await es.search<{ container?: { id?: string } }>({
    index,
    size: ids.length * 4,
    _source: ['container.id'],
    query: { bool: { filter: [{ terms: { 'container.id': ids } }, { term: { 'file.path': marker } }] } },
    ignore_unavailable: true,
    allow_no_indices: true,
  });
  return new Set(r.hits.hits.map((h) => h._source?.container?.id).filter((id): id is string => !!id));
}

/** The log lines stored for a container so far. */
export async function logLines(es: Client, ns: string, id: string): Promise<string[]> {
  const r = await es
    .search<{ message?: string }>({ index: streams(ns).logs, size: 1000, _source: ['message'], query: { term: { 'container.id': id } }, ignore_unavailable: true, allow_no_indices: true })
    .catch(() => undefined);
  return (r?.hits.hits ?? []).map((h) => h._source?.message ?? '');
}

/** Alert (or signal) documents on the given containers, by container id. */
export async function alertsOn(es: Client, index: string, ids: string[]): Promise<Map<string, AlertDoc[]>> {
  const out = new Map<string, AlertDoc[]>(ids.map((id) => [id, []]));
  if (ids.length === 0) return out;
  const exists = await es.indices.exists({ index, allow_no_indices: false }).catch(() => false);
  if (!exists) return out;
  for (const d of await fetchAll<AlertDoc>(es, index, { terms: { 'container.id': ids } })) out.get(d.container?.id ?? '')?.push(d);
  return out;
}

/**
 * The runner's own steps (the marker file and the exec that writes it) are nobody's attack: an
 * alert resting on them is the harness's, counted apart, never for or against a scenario.
 */
export function isHarness(a: AlertDoc): boolean {
  const cl = a.process?.command_line ?? '';
  const path = a.file?.path ?? '';
  return path.startsWith('/tmp/dwsuite-') || /^touch \/tmp\/dwsuite-(done|end)$/.test(cl);
}
