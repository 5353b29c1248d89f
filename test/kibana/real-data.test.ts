import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { AggregationsAggregate, SearchResponse } from '@elastic/elasticsearch/lib/api/types';
import { DASHBOARDS } from '../../src/kibana/bundle';
import { dataView } from '../../src/kibana/data-views';
import { narrow, panelSearch, savedSearchRequest } from '../../src/kibana/lens-query';
import type { LensPanel } from '../../src/kibana/model';
import { SEARCHES } from '../../src/kibana/searches';
import { esQueryRules } from '../../src/setup/alert-rules';
import { watchersConfig } from '../../src/setup/setup-config';
import { watchDefs } from '../../src/setup/watch-defs';
import { adminClient } from '../support/engines';
import { panelFields } from './fields';
import { startLab, type Lab } from './lab';
import { conditionMet } from './watch-condition';

/** Buckets with documents, or a metric with a value: what a panel shows when it has data. */
function hasData(aggs: Record<string, AggregationsAggregate> | undefined, p: LensPanel): boolean {
  if (!p.buckets.length) {
    const m = p.metrics[0];
    if (m.op === 'count') return true; // checked on hits.total by the caller
    const v = (aggs?.m0 as { value?: number | null; values?: Record<string, number | null> })?.value ?? Object.values((aggs?.m0 as { values?: Record<string, number | null> })?.values ?? {})[0];
    return v !== null && v !== undefined;
  }
  const buckets = (aggs?.b0 as { buckets?: Array<{ doc_count: number }> })?.buckets ?? [];
  return buckets.some((b) => b.doc_count > 0);
}

describe('Kibana panels, saved searches and watches over a real dockward run', () => {
  const es = adminClient();
  let lab: Lab;
  const range = { gte: 'now-1h', interval: '30s' };
  before(async () => { lab = await startLab(es); }, { timeout: 180_000 });
  after(async () => { await lab?.close(); await es.close(); });

  it('the fields panels aggregate are aggregatable in the real indices (field_caps, stand-ins included)', async () => {
    for (const d of DASHBOARDS) {
      for (const p of d.panels.filter((x): x is LensPanel => x.kind === 'lens')) {
        const index = narrow(dataView(p.dataView).title, lab.attack);
        const { aggregated } = panelFields(p);
        if (!aggregated.length) continue;
        const caps = await es.fieldCaps({ index, fields: aggregated, ignore_unavailable: true });
        for (const f of aggregated) {
          const types = Object.values(caps.fields[f] ?? {});
          assert.ok(types.length > 0, `${d.id}/${p.id}: ${f} exists in ${index}`);
          assert.ok(types.every((t) => t.aggregatable), `${d.id}/${p.id}: ${f} is aggregatable in ${index} (${JSON.stringify(caps.fields[f])})`);
        }
      }
    }
  });

  it('every Lens panel\'s search, built from its own definition, returns data from the attack run', async () => {
    const empty: string[] = [];
    let n = 0;
    for (const d of DASHBOARDS) {
      for (const p of d.panels.filter((x): x is LensPanel => x.kind === 'lens')) {
        const res = (await es.search(panelSearch(p, narrow(dataView(p.dataView).title, lab.attack), range))) as SearchResponse;
        const total = typeof res.hits.total === 'number' ? res.hits.total : res.hits.total!.value;
        n++;
        if (total === 0 || !hasData(res.aggregations, p)) empty.push(`${d.id}/${p.id} (${total} documents)`);
      }
    }
    assert.deepEqual(empty, [], `panels without data: ${empty.join(', ')}`);
    assert.ok(n >= 40);
    process.stdout.write(`# ${n} Lens panels returned data\n`);
  });

  it('the Overview panels show what the attack did: the scan rule, the technique, the host-PID container', async () => {
    const get = (id: string) => DASHBOARDS[0].panels.find((p) => p.id === id) as LensPanel;
    const keys = async (id: string) => {
      const p = get(id);
      const res = await es.search(panelSearch(p, narrow(dataView(p.dataView).title, lab.attack), range));
      return ((res.aggregations?.b0 as { buckets: Array<{ key: string }> }).buckets).map((b) => b.key);
    };
    assert.ok((await keys('top-rules')).includes('Port scanner output in a container log'));
    assert.ok((await keys('techniques')).includes('Network Service Discovery'));
    assert.ok((await keys('top-containers')).includes(`${lab.attack}-hostpid`));
  });

  it('every saved search returns documents with its columns', async () => {
    for (const s of SEARCHES) {
      const res = await es.search(savedSearchRequest(s, narrow(dataView(s.dataView).title, lab.attack)));
      assert.ok(res.hits.hits.length > 0, `${s.id} found documents`);
      const seen = new Set(res.hits.hits.flatMap((h) => Object.keys(h.fields ?? {})));
      for (const c of s.columns.filter((c) => !['message', 'process.exit_code', 'process.parent.pid', 'dockward.file.executed', 'dockward.drift.baseline', 'dockward.alert.count'].includes(c))) assert.ok(seen.has(c), `${s.id}: column ${c} has values`);
    }
  });

  it('Shipper health and anomaly panels carry real figures: lines read, acked, spool, lag; scores for the lab\'s containers', async () => {
    const index = `logs-dockward.internal-${lab.attack}`;
    const agg = (op: 'sum' | 'max', field: string) => ({ [op]: { field } });
    const res = await es.search({
      index, size: 0, query: { term: { 'event.action': 'heartbeat' } },
      aggs: {
        lines: agg('sum', 'dockward.shipper.read.log_lines'), container: agg('sum', 'dockward.shipper.read.sources.container'), read: agg('sum', 'dockward.shipper.read.documents'),
        acked: agg('sum', 'dockward.shipper.output.acked'), spool: agg('max', 'dockward.shipper.spool.bytes'), lag: agg('max', 'dockward.shipper.lag.log_s'), unacked: agg('max', 'dockward.shipper.lag.unacked_s'),
      },
    });
    const v = (k: string) => (res.aggregations?.[k] as { value: number | null }).value;
    process.stdout.write(`# heartbeats: ${JSON.stringify(Object.fromEntries(Object.keys(res.aggregations ?? {}).map((k) => [k, v(k)])))}\n`);
    assert.ok(v('lines')! > 0 && v('container')! > 0, 'log lines read were counted');
    assert.ok(v('read')! >= v('container')!, 'every source adds to documents read');
    assert.ok(v('acked')! > 0, 'acknowledged documents were counted');
    assert.ok(v('spool')! > 0, 'the disk spool (the default queue) holds bytes');
    assert.ok(v('lag') !== null && v('unacked') !== null, 'lag fields are present in the beats');
    const anomaly = await es.count({ index: `metrics-dockward.anomaly-${lab.attack}`, query: { bool: { filter: [{ term: { 'container.name': `${lab.attack}-web` } }, { exists: { field: 'dockward.anomaly.score' } }, { exists: { field: 'dockward.anomaly.top' } }] } } });
    assert.ok(anomaly.count >= 2, `anomaly scores for ${lab.attack}-web: ${anomaly.count}`);
  });

  it('each watch\'s search runs for real; its condition fires on the attack run and stays quiet on the benign one', async () => {
    const cfg = watchersConfig.parse({ heartbeat_stale: '6s', burst_threshold: 5, interval: '5m' });
    await lab.stopAttack();
    await new Promise((r) => setTimeout(r, 8000));
    const verdicts: Record<string, [boolean, boolean]> = {};
    for (const ns of [lab.attack, lab.benign]) {
      for (const w of watchDefs({ cfg, namespace: ns })) {
        const req = w.body.input!.search!.request;
        await es.indices.refresh({ index: req.indices!, ignore_unavailable: true, allow_no_indices: true });
        // Watcher's own default: hits.total as a number.
        const payload = await es.search({ index: req.indices, ...(req.body as object), rest_total_hits_as_int: true, ignore_unavailable: true, allow_no_indices: true });
        const met = conditionMet(w.body.condition!, { payload, metadata: w.body.metadata });
        (verdicts[w.id] ??= [false, false])[ns === lab.attack ? 0 : 1] = met;
      }
    }
    for (const [id, [attack, benign]] of Object.entries(verdicts)) {
      assert.equal(attack, true, `${id} fires on attack data`);
      assert.equal(benign, false, `${id} stays quiet on benign data`);
    }
    assert.equal(Object.keys(verdicts).length, 5);
  });

  it('the Basic-licence rules\' queries (with their time window) match attack data and not benign data', async () => {
    const cfg = watchersConfig.parse({ burst_threshold: 5, interval: '5m', burst_window: '10m' });
    for (const ns of [lab.attack, lab.benign]) {
      for (const { id, rule } of esQueryRules(cfg, ns)) {
        if (id === 'dockward-heartbeat-stopped') continue; // "fewer than one" — checked below
        const { query } = JSON.parse(rule.params.esQuery) as { query: object };
        const window = { range: { '@timestamp': { gte: `now-${rule.params.timeWindowSize}${rule.params.timeWindowUnit}` } } };
        const res = await es.search({ index: rule.params.index, size: 0, query: { bool: { filter: [query, window] } }, track_total_hits: true, ignore_unavailable: true, allow_no_indices: true,
          aggs: rule.params.groupBy === 'top' ? { g: { terms: { field: rule.params.termField!, size: rule.params.termSize! }, aggs: { v: { sum: { field: rule.params.aggField! } } } } } : undefined });
        const value = rule.params.groupBy === 'top'
          ? Math.max(0, ...((res.aggregations?.g as { buckets: Array<{ v: { value: number } }> } | undefined)?.buckets ?? []).map((b) => b.v.value))
          : (res.hits.total as { value: number }).value;
        const fires = rule.params.thresholdComparator === '>' ? value > rule.params.threshold[0] : value >= rule.params.threshold[0];
        assert.equal(fires, ns === lab.attack, `${id} on ${ns === lab.attack ? 'attack' : 'benign'} data (value ${value})`);
      }
    }
  });
});
