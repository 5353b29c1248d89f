import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { DockwardProcess } from '../support/dockward';
import { STREAMS } from '../../src/setup/index-templates';

type Props = Record<string, { type?: string; properties?: Props }>;

describe('dockward setup --index-management (real Elasticsearch)', () => {
  const es = adminClient();
  after(() => es.close());

  it('is idempotent: a second run changes nothing', async () => {
    const first = DockwardProcess.run({ namespace: newNamespace(), command: ['setup', '--index-management'] });
    assert.equal(await first.wait(), 0, first.log);
    const second = DockwardProcess.run({ namespace: newNamespace(), command: ['setup', '--index-management'] });
    assert.equal(await second.wait(), 0, second.log);
    const lines = second.log.split('\n').filter((l) => /template/.test(l) && !/^\d\d:/.test(l));
    // Two component templates and one index template per stream.
    assert.equal(lines.length, 2 + STREAMS.length, second.log);
    assert.ok(lines.every((l) => l.startsWith('unchanged')), second.log);
  });

  it('installs data-stream templates whose mappings a new stream gets, with stand-ins on a minimal cluster', async () => {
    const ns = newNamespace();
    const index = `logs-dockward.container-${ns}`;
    await es.index({ index, op_type: 'create', document: { '@timestamp': new Date().toISOString(), message: 'x', container: { labels: { 'a.b': 'c' } }, surprise: { field: 1 } }, refresh: true });
    const m = await es.indices.getMapping({ index });
    const props = (Object.values(m)[0].mappings.properties ?? {}) as Props;
    assert.equal(props.container.properties!.labels.type, 'flattened');
    assert.equal(props.surprise, undefined, 'dynamic mapping is off: unknown fields are not mapped');
    // This test cluster has no match_only_text/wildcard (integ-test distribution): stand-ins apply.
    const cluster = await es.nodes.info({ node_id: '_local', filter_path: ['nodes.*.modules.name'] });
    const modules = JSON.stringify(cluster);
    if (!modules.includes('wildcard')) assert.equal(props.process.properties!.command_line.type, 'keyword');
    if (!modules.includes('mapper-extras') && !modules.includes('match-only')) assert.equal(props.message.type, 'text');
    const ds = await es.indices.get({ index });
    assert.ok(Object.keys(ds)[0].startsWith('.ds-'), 'a data stream, not a plain index');
    void engines;
  });

  it('--print shows the full ECS templates for a default distribution', async () => {
    const p = DockwardProcess.run({ namespace: newNamespace(), command: ['setup', '--print'] });
    assert.equal(await p.wait(), 0);
    const out = JSON.parse(p.log) as { 'index-management': { component_templates: Record<string, { template: { mappings?: { properties: Props } } }> } };
    const props = out['index-management'].component_templates['dockward@mappings'].template.mappings!.properties;
    assert.equal(props.message.type, 'match_only_text');
    assert.equal(props.process.properties!.command_line.type, 'wildcard');
  });
});
