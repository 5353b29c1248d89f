import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DASHBOARDS, savedObjects } from '../../src/kibana/bundle';
import { generatedFiles } from '../../src/kibana/generate';
import { MIGRATION_VERSION, type LensPanel, type SavedObject } from '../../src/kibana/model';
import { SEARCHES } from '../../src/kibana/searches';
import { dataView } from '../../src/kibana/data-views';
import { READ_SOURCES, SHIPPER_FIELDS } from '../../src/telemetry/shipper-stats';
import { ROOT } from '../support/engines';
import { AGGREGATABLE, panelFields, searchFields, templateFields } from './fields';

const lines = readFileSync(join(ROOT, 'kibana/dockward.ndjson'), 'utf8').split('\n').filter(Boolean);
const objects = lines.map((l) => JSON.parse(l) as SavedObject);
const byKey = new Map(objects.map((o) => [`${o.type}/${o.id}`, o]));
/** The newest versions 9.0 knows, per the research notes: anything higher would be refused there. */
const NEWEST_ON_90: Record<string, string> = { 'index-pattern': '8.0.0', search: '10.5.0', dashboard: '10.2.0', lens: '8.9.0' };
const cmp = (a: string, b: string) => { const x = a.split('.').map(Number), y = b.split('.').map(Number); return x[0] - y[0] || x[1] - y[1] || x[2] - y[2]; };

type LensState = { datasourceStates: { formBased: { layers: Record<string, { columnOrder: string[]; columns: Record<string, { sourceField: string; operationType: string; params?: { orderBy?: { columnId?: string } } }> }> } }; visualization: Record<string, unknown> & { layers?: Array<Record<string, unknown>> }; query: { language: string; query: string } };
type Panel = { type: string; panelIndex: string; gridData: { x: number; y: number; w: number; h: number; i: string }; panelRefName?: string; embeddableConfig: { attributes?: { visualizationType: string; state: LensState; references: SavedObject['references'] } } };

describe('Kibana assets (structure)', () => {
  it('the committed files are exactly what the typed source generates (no drift)', () => {
    for (const [path, content] of Object.entries(generatedFiles())) {
      assert.equal(readFileSync(join(ROOT, path), 'utf8'), content, `${path} is stale: run node dist/src/kibana/generate.js`);
    }
    assert.deepEqual(objects, savedObjects());
  });

  it('every line is an importable object: unique type/id, versions Kibana 9.0–9.2 accept, stringified attributes', () => {
    assert.equal(byKey.size, objects.length, 'type/id pairs are unique (a duplicate makes the whole import a 400)');
    assert.ok(DASHBOARDS.length >= 6 && objects.filter((o) => o.type === 'dashboard').length === DASHBOARDS.length);
    for (const o of objects) {
      assert.equal(o.coreMigrationVersion, '8.8.0');
      assert.ok(o.typeMigrationVersion, `${o.id} has a typeMigrationVersion (without one every old migration runs)`);
      assert.ok(cmp(o.typeMigrationVersion, NEWEST_ON_90[o.type]) <= 0, `${o.type} ${o.id}: ${o.typeMigrationVersion} is newer than 9.0 knows`);
      assert.equal(o.typeMigrationVersion, MIGRATION_VERSION[o.type]);
      assert.equal(typeof o.attributes.title, 'string');
      const meta = o.attributes.kibanaSavedObjectMeta as { searchSourceJSON?: unknown } | undefined;
      if (o.type !== 'index-pattern') assert.equal(typeof JSON.parse(meta!.searchSourceJSON as string), 'object');
      if (o.type === 'dashboard') {
        for (const k of ['panelsJSON', 'optionsJSON']) assert.equal(typeof o.attributes[k], 'string', `${o.id}.${k} is a string`);
        // Schema v1 forbids unknown attributes.
        assert.deepEqual(Object.keys(o.attributes).sort(), ['description', 'kibanaSavedObjectMeta', 'optionsJSON', 'panelsJSON', 'refreshInterval', 'timeFrom', 'timeRestore', 'timeTo', 'title']);
      }
      if (o.type === 'index-pattern') for (const k of ['fields', 'fieldFormatMap', 'fieldAttrs', 'runtimeFieldMap', 'sourceFilters']) JSON.parse(o.attributes[k] as string);
      if (o.type === 'search') assert.ok(Array.isArray(o.attributes.columns) && (o.attributes.columns as string[]).length > 0, `${o.id} has columns`);
    }
  });

  it('every reference resolves inside the bundle and follows Kibana\'s naming', () => {
    for (const o of objects) {
      for (const r of o.references) assert.ok(byKey.has(`${r.type}/${r.id}`), `${o.type} ${o.id} → ${r.type}/${r.id} (${r.name}) is in the bundle`);
      if (o.type === 'search') assert.deepEqual(o.references.map((r) => r.name), ['kibanaSavedObjectMeta.searchSourceJSON.index']);
      if (o.type !== 'dashboard') continue;
      const panels = JSON.parse(o.attributes.panelsJSON as string) as Panel[];
      const names = new Set(o.references.map((r) => r.name));
      for (const p of panels) {
        assert.ok(p.type, 'panel type is required');
        assert.equal(p.gridData.i, p.panelIndex);
        assert.ok(p.gridData.x + p.gridData.w <= 48, `${o.id}/${p.panelIndex} fits the 48-column grid`);
        if (p.panelRefName) assert.ok(names.has(`${p.panelIndex}:${p.panelRefName}`), `${o.id}/${p.panelIndex}: prefixed panel reference`);
        for (const r of p.embeddableConfig.attributes?.references ?? []) assert.ok(names.has(`${p.panelIndex}:${r.name}`), `${o.id}/${p.panelIndex}: dashboard repeats ${r.name} with the prefix`);
      }
    }
  });

  it('every Lens layer is consistent: column ids, accessors, orderBy, and one data-view reference per layer', () => {
    let n = 0;
    for (const o of objects.filter((x) => x.type === 'dashboard')) {
      for (const p of (JSON.parse(o.attributes.panelsJSON as string) as Panel[]).filter((x) => x.type === 'lens')) {
        n++;
        const a = p.embeddableConfig.attributes!;
        const layers = a.state.datasourceStates.formBased.layers;
        for (const [id, layer] of Object.entries(layers)) {
          assert.deepEqual([...layer.columnOrder].sort(), Object.keys(layer.columns).sort(), `${p.panelIndex}: columnOrder lists every column`);
          assert.ok(a.references.some((r) => r.type === 'index-pattern' && r.name === `indexpattern-datasource-layer-${id}`));
          for (const c of Object.values(layer.columns)) if (c.params?.orderBy?.columnId) assert.ok(layer.columns[c.params.orderBy.columnId], 'orderBy names a column');
          const accessors = JSON.stringify(a.state.visualization).match(/"(?:b|m)\d+"/g) ?? [];
          for (const acc of accessors) assert.ok(layer.columns[JSON.parse(acc) as string], `${o.id}/${p.panelIndex}: accessor ${acc} is a column`);
          assert.ok(accessors.length > 0);
        }
        assert.ok(['lnsXY', 'lnsMetric', 'lnsDatatable', 'lnsPie'].includes(a.visualizationType));
        assert.equal(a.state.query.language, 'kuery');
      }
    }
    assert.ok(n >= 40, `${n} Lens panels`);
  });

  it('every field a panel, search or data view names is in the templates; aggregated ones have an aggregatable type', () => {
    const fields = templateFields();
    assert.equal(fields.get('@timestamp')?.type, 'date', 'data views use @timestamp as time field');
    for (const d of DASHBOARDS) {
      for (const p of d.panels.filter((x): x is LensPanel => x.kind === 'lens')) {
        const { aggregated, filtered } = panelFields(p);
        for (const f of [...aggregated, ...filtered]) assert.ok(fields.has(f), `${d.id}/${p.id}: ${f} is mapped`);
        for (const f of aggregated) assert.ok(AGGREGATABLE.has(fields.get(f)!.type!) && fields.get(f)!.doc_values !== false, `${d.id}/${p.id}: ${f} (${fields.get(f)!.type}) is aggregatable`);
      }
    }
    for (const s of SEARCHES) for (const f of searchFields(s)) assert.ok(fields.has(f), `${s.id}: ${f} is mapped`);
  });

  it('Shipper health charts what each heartbeat carries; Resources charts the anomaly scores', () => {
    const fields = templateFields();
    for (const f of Object.keys(SHIPPER_FIELDS)) assert.ok(['long', 'float'].includes(fields.get(f)?.type ?? ''), `${f} is mapped numeric (${fields.get(f)?.type})`);
    const charted = (id: string) => {
      const lensPanels = DASHBOARDS.find((d) => d.id === id)!.panels.filter((p): p is LensPanel => p.kind === 'lens');
      return new Map(lensPanels.flatMap((p) => panelFields(p).aggregated.map((f) => [f, p] as const)));
    };
    const shipper = charted('dockward-shipper');
    const wanted = [
      'dockward.shipper.read.log_lines', 'dockward.shipper.read.engine_events', 'dockward.shipper.read.documents', ...READ_SOURCES.map((s) => `dockward.shipper.read.sources.${s}`),
      ...['acked', 'duplicate', 'retried', 'dead_lettered', 'dropped'].map((o) => `dockward.shipper.output.${o}`),
      'dockward.shipper.spool.bytes', 'dockward.shipper.spool.records', 'dockward.shipper.queue.documents', 'dockward.shipper.lag.log_s', 'dockward.shipper.lag.unacked_s',
    ];
    for (const f of wanted) {
      const p = shipper.get(f);
      assert.ok(p, `a Shipper health panel charts ${f}`);
      assert.deepEqual(p.where, [{ field: 'event.action', is: 'heartbeat' }], `${p.id} reads heartbeats only`);
      // Per-beat counters add up per bucket; a max of them would show one beat's worth.
      const m = p.metrics.find((x) => x.op !== 'count' && x.field === f)!;
      assert.equal(m.op, f.includes('.read.') || f.includes('.output.') ? 'sum' : 'max', `${p.id}: ${f} aggregated as ${m.op}`);
    }
    const resources = charted('dockward-resources');
    for (const f of ['dockward.anomaly.score', 'dockward.anomaly.top']) {
      const p = resources.get(f);
      assert.ok(p, `a Resources panel charts ${f}`);
      assert.equal(dataView(p.dataView).title, 'metrics-dockward.anomaly-*');
    }
    assert.ok(byKey.has('index-pattern/dockward-anomaly'), 'the anomaly data view is in the bundle');
  });
});
