import type { Client } from '@elastic/elasticsearch';
import { techniqueOf, type AlertDoc } from './watch';

type Out = (line: string) => void;
type Buckets = { buckets: Array<{ key: string; doc_count: number; top?: { hits: { hits: Array<{ _source?: unknown }> } } }> };

/** Prometheus text → `name{labels}` → value (dockward's own /metrics, read before it stops). */
export function parseMetrics(text: string): Map<string, number> {
  const m = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const sp = line.lastIndexOf(' ');
    m.set(line.slice(0, sp), Number(line.slice(sp + 1)));
  }
  return m;
}

async function aggs(es: Client, index: string, query: object, agg: object): Promise<Record<string, Buckets> | undefined> {
  const r = await es.search({ index, size: 0, query, aggs: agg as never, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  return r?.aggregations as Record<string, Buckets> | undefined;
}

/** The end of the demo: what arrived, what was caught and how fast, how delivery went. */
export async function printSummary(es: Client, ns: string, prefix: string, alerts: AlertDoc[], metrics: Map<string, number> | undefined, out: Out): Promise<void> {
  await es.indices.refresh({ index: `*-dockward.*-${ns}`, ignore_unavailable: true, allow_no_indices: true }).catch(() => undefined);
  out('');
  out('== documents per stream ==');
  const streams = await es.cat.indices({ index: `.ds-*-dockward.*-${ns}-*`, format: 'json', h: 'index,docs.count' }).catch(() => []);
  const per = new Map<string, number>();
  for (const s of streams as Array<{ index?: string; 'docs.count'?: string }>) {
    const name = (s.index ?? '').replace(/^\.ds-/, '').replace(/-\d{4}\.\d{2}\.\d{2}-\d+$/, '');
    per.set(name, (per.get(name) ?? 0) + Number(s['docs.count'] ?? 0));
  }
  if (!per.size) out('  none yet');
  for (const [k, v] of [...per].sort()) out(`  ${k.padEnd(40)} ${v}`);

  out('');
  out('== alerts by ATT&CK technique ==');
  const by = new Map<string, Set<string>>();
  for (const a of alerts) by.set(techniqueOf(a), (by.get(techniqueOf(a)) ?? new Set()).add(`${a.rule?.id} on ${a.container?.name ?? 'host'}`));
  if (!by.size) out('  none yet');
  for (const [t, rules] of [...by].sort()) out(`  ${t.padEnd(44)} ${[...rules].join(', ')}`);

  out('');
  out('== posture: failed CIS checks by severity ==');
  const posture = await aggs(es, `logs-dockward.posture-${ns}`, { bool: { filter: [{ term: { 'dockward.posture.evaluation': 'failed' } }, { bool: { should: [{ prefix: { 'container.name': prefix } }, { bool: { must_not: { exists: { field: 'container.name' } } } }] } }] } }, {
    sev: { terms: { field: 'dockward.posture.severity', size: 10 }, aggs: { top: { top_hits: { size: 3, _source: ['rule.id', 'rule.name', 'container.name'] } } } },
  });
  const sev = posture?.sev?.buckets ?? [];
  if (!sev.length) out('  none yet');
  for (const b of sev) {
    const examples = (b.top?.hits.hits ?? []).map((h) => h._source as { rule?: { id?: string; name?: string }; container?: { name?: string } }).map((s) => `${s.rule?.id} ${s.container?.name ?? 'daemon'}`);
    out(`  ${b.key.padEnd(9)} ${String(b.doc_count).padStart(4)} findings, e.g. ${[...new Set(examples)].join('; ')}`);
  }

  out('');
  out('== anomaly: highest score per container ==');
  const anomaly = await aggs(es, `metrics-dockward.anomaly-${ns}`, { prefix: { 'container.name': prefix } }, {
    c: { terms: { field: 'container.name', size: 10 }, aggs: { top: { top_hits: { size: 1, sort: [{ 'dockward.anomaly.score': 'desc' }], _source: ['dockward.anomaly.score', 'dockward.anomaly.explanation', 'dockward.anomaly.warm'] } } } },
  });
  const cs = anomaly?.c?.buckets ?? [];
  if (!cs.length) out('  none yet (each container needs a few stats intervals of baseline)');
  for (const b of cs) {
    const a = (b.top?.hits.hits[0]?._source as { dockward?: { anomaly?: { score?: number; explanation?: string; warm?: boolean } } })?.dockward?.anomaly;
    out(`  ${b.key.padEnd(20)} ${(a?.score ?? 0).toFixed(2)}${a?.warm ? '' : ' (baseline still warming up)'}  ${(a?.explanation ?? '').slice(0, 100)}`);
  }

  out('');
  out('== delivery (dockward_documents_total by outcome) ==');
  if (!metrics) out('  none yet (dockward metrics not read)');
  else {
    const outcomes = ['acked', 'duplicate', 'dead_lettered', 'dropped'].map((o) => `${o} ${metrics.get(`dockward_documents_total{outcome="${o}"}`) ?? 0}`);
    out(`  ${outcomes.join(', ')}; retries ${[...metrics].filter(([k]) => k.startsWith('dockward_documents_retried_total')).reduce((a, [, v]) => a + v, 0)}`);
  }

  out('');
  out('== detection latency (the document that matched → the alert) ==');
  const lat: string[] = [];
  for (const a of alerts.slice(0, 20)) {
    const src = a.dockward?.alert?.source;
    if (!src?.index || !src.id || !a.event?.created) continue;
    const r = await es.search<{ '@timestamp'?: string }>({ index: src.index, size: 1, query: { ids: { values: [src.id] } }, _source: ['@timestamp'] }).catch(() => undefined);
    const t = r?.hits.hits[0]?._source?.['@timestamp'];
    if (t) lat.push(`  ${(a.rule?.id ?? '?').padEnd(40)} ${((Date.parse(a.event.created) - Date.parse(t)) / 1000).toFixed(1)} s`);
  }
  if (!lat.length) out('  none yet');
  for (const l of lat) out(l);
}
