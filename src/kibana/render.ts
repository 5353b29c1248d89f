import { dataView } from './data-views';
import { toKql } from './filters';
import { lensAttributes } from './lens';
import { MIGRATION_VERSION, type DashboardSpec, type DataViewSpec, type SavedObject, type SearchSpec } from './model';
import { savedSearch } from './searches';

const GRID_COLUMNS = 48;
const VERSIONS = { coreMigrationVersion: '8.8.0' as const, managed: false };

export function renderDataView(v: DataViewSpec): SavedObject {
  return {
    type: 'index-pattern', id: v.id,
    attributes: {
      title: v.title, name: v.name, timeFieldName: '@timestamp',
      fields: '[]', fieldFormatMap: JSON.stringify({ 'docker.memory.usage.bytes': { id: 'bytes' }, 'docker.cpu.pct': { id: 'percent' }, 'docker.memory.pct': { id: 'percent' } }),
      fieldAttrs: '{}', runtimeFieldMap: '{}', sourceFilters: '[]',
      // Data views exist before the first document: setup runs before dockward does.
      allowNoIndex: true,
    },
    references: [], typeMigrationVersion: MIGRATION_VERSION['index-pattern'], ...VERSIONS,
  };
}

export function renderSearch(s: SearchSpec): SavedObject {
  const searchSource = { query: { query: toKql(s.where), language: 'kuery' }, filter: [], indexRefName: 'kibanaSavedObjectMeta.searchSourceJSON.index' };
  dataView(s.dataView);
  return {
    type: 'search', id: s.id,
    attributes: {
      title: s.title, description: s.description, columns: s.columns, sort: [['@timestamp', 'desc']], grid: {}, hideChart: false,
      isTextBasedQuery: false, usesAdHocDataView: false, timeRestore: false,
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify(searchSource) },
    },
    references: [{ type: 'index-pattern', id: s.dataView, name: 'kibanaSavedObjectMeta.searchSourceJSON.index' }],
    typeMigrationVersion: MIGRATION_VERSION.search, ...VERSIONS,
  };
}

/** Panels flow left to right in rows, each row as tall as its tallest panel. */
function layout(d: DashboardSpec): Array<{ x: number; y: number; w: number; h: number; i: string }> {
  let x = 0, y = 0, rowH = 0;
  return d.panels.map((p) => {
    if (p.w > GRID_COLUMNS) throw new Error(`${d.id}/${p.id} is wider than the grid`);
    if (x + p.w > GRID_COLUMNS) { y += rowH; x = 0; rowH = 0; }
    const g = { x, y, w: p.w, h: p.h, i: p.id };
    x += p.w; rowH = Math.max(rowH, p.h);
    return g;
  });
}

export function renderDashboard(d: DashboardSpec): SavedObject {
  const grid = layout(d);
  const references: SavedObject['references'] = [];
  const panels = d.panels.map((p, n) => {
    if (p.kind === 'search') {
      savedSearch(p.search);
      references.push({ type: 'search', id: p.search, name: `${p.id}:panel_${p.id}` });
      return { type: 'search', panelIndex: p.id, gridData: grid[n], title: p.title, embeddableConfig: { enhancements: {} }, panelRefName: `panel_${p.id}` };
    }
    dataView(p.dataView);
    const attributes = lensAttributes(p);
    // Kibana's own exports carry both the panel's unprefixed references and the dashboard's prefixed copies.
    for (const r of attributes.references as SavedObject['references']) references.push({ ...r, name: `${p.id}:${r.name}` });
    return { type: 'lens', panelIndex: p.id, gridData: grid[n], title: p.title, embeddableConfig: { attributes, enhancements: {} } };
  });
  const ids = new Set(d.panels.map((p) => p.id));
  if (ids.size !== d.panels.length) throw new Error(`${d.id}: duplicate panel ids`);
  return {
    type: 'dashboard', id: d.id,
    attributes: {
      title: d.title, description: d.description,
      timeRestore: true, timeFrom: d.timeFrom, timeTo: 'now', refreshInterval: { pause: false, value: 60000 },
      optionsJSON: JSON.stringify({ useMargins: true, syncColors: false, syncCursor: true, syncTooltips: false, hidePanelTitles: false }),
      kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ query: { query: '', language: 'kuery' }, filter: [] }) },
      panelsJSON: JSON.stringify(panels),
    },
    references, typeMigrationVersion: MIGRATION_VERSION.dashboard, ...VERSIONS,
  };
}
