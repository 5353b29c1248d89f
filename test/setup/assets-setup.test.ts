import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { DockwardProcess } from '../support/dockward';
import { ROOT, adminClient, newNamespace } from '../support/engines';
import { optionalComponents } from '../../src/setup/optional-components';

/**
 * `dockward setup` on the test cluster: a basic licence, no ingest processors, no ILM, no data
 * stream lifecycle, no Watcher, no Kibana. Every asset step must say so in one line and leave the
 * templates working; a second run changes nothing.
 */
describe('dockward setup: every step on a cluster that lacks the features (real Elasticsearch)', () => {
  const es = adminClient();
  after(() => es.close());
  const setup = async (...args: string[]) => {
    const p = DockwardProcess.run({ namespace: newNamespace(), command: ['setup', ...args] });
    const code = await p.wait();
    return { code, lines: p.log.split('\n').filter((l) => /^(created|updated|unchanged|skipped|failed|summary)/.test(l)), log: p.log };
  };

  it('runs every step with one line each, skips with the reason, and changes nothing the second time', async () => {
    const first = await setup();
    assert.equal(first.code, 0, first.log);
    const second = await setup();
    assert.equal(second.code, 0, second.log);
    const skipped = second.lines.filter((l) => l.startsWith('skipped'));
    assert.match(skipped.find((l) => l.includes('ingest pipelines'))!, /lacks the ingest processors .*grok.*; documents are indexed without pipelines|has no ingest processors/);
    assert.match(skipped.find((l) => l.includes('retention (ilm)'))!, /no index lifecycle management \(ILM\).*setup\.retention\.mode=dsl/);
    assert.match(skipped.find((l) => l.includes('Kibana assets'))!, /setup\.kibana\.url is not set/);
    assert.match(skipped.find((l) => l.includes('alerts'))!, /Watcher needs a Gold or higher licence \(this cluster: basic, active\), and setup\.kibana\.url is not set/);
    assert.equal(skipped.length, 4, second.log);
    assert.ok(second.lines.filter((l) => /^(created|updated|unchanged|failed)/.test(l)).every((l) => l.startsWith('unchanged')), second.log);
    assert.match(second.lines.at(-1)!, /^summary: 0 created, 0 updated, \d+ unchanged, 4 skipped, 0 failed \(skipped: pipelines, lifecycle, dashboards, watchers\)$/);
  });

  it('--retention dsl names the other mechanism; selected steps run alone', async () => {
    const r = await setup('--lifecycle', '--retention', 'dsl');
    assert.equal(r.code, 0, r.log);
    assert.deepEqual(r.lines.slice(0, -1), [r.lines.find((l) => l.startsWith('skipped   retention (dsl)'))]);
    assert.match(r.lines[0], /no data stream lifecycle .*setup\.retention\.mode=ilm/);
    const bad = await setup('--lifecycle', '--retention', 'forever');
    assert.notEqual(bad.code, 0);
    assert.match(bad.log, /--retention takes ilm or dsl/);
  });

  it('index templates list the pipeline and lifecycle components as optional, and streams still index without them', async () => {
    const t = await es.indices.getIndexTemplate({ name: 'logs-dockward.alert' });
    const tpl = t.index_templates[0].index_template;
    assert.deepEqual(tpl.ignore_missing_component_templates, optionalComponents('logs', 'dockward.alert'));
    for (const c of optionalComponents('logs', 'dockward.alert')) assert.ok(tpl.composed_of.includes(c));
    const missing = await es.cluster.getComponentTemplate({ name: 'logs-dockward.alert@pipeline' }, { ignore: [404] });
    assert.equal(missing.component_templates?.length ?? 0, 0, 'nothing written where the cluster cannot run pipelines');
    const index = `logs-dockward.alert-${newNamespace()}`;
    const res = await es.index({ index, op_type: 'create', document: { '@timestamp': new Date().toISOString(), message: 'x' }, refresh: true });
    assert.equal(res.result, 'created');
  });

  it('export dashboards writes the committed NDJSON', async () => {
    const out = execFileSync(process.execPath, [join(ROOT, 'dist/src/cli/main.js'), 'export', 'dashboards'], { encoding: 'utf8', maxBuffer: 1 << 24 });
    assert.equal(out, readFileSync(join(ROOT, 'kibana/dockward.ndjson'), 'utf8'));
  });
});
