import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import type { CollectorContext } from '../../src/collect/collector';
import { DriftCollector, driftConfig } from '../../src/collect/drift';
import { containerFields } from '../../src/enrich/ecs';
import type { ContainerMeta } from '../../src/enrich/metadata';
import { indexTemplatesStep } from '../../src/setup/index-templates';
import { replaceType, TYPE_FALLBACKS } from '../../src/setup/mappings';
import type { Envelope } from '../../src/ship/envelope';
import { adminClient, newNamespace } from '../support/engines';

const MISSING_TYPE = /mapper type \[([a-z_]+)\] declared on field|No handler for type \[([a-z_]+)\]/;

const meta = (id: string, labels: Record<string, string>): ContainerMeta => ({
  id: id.repeat(64), name: `c-${id}`, image: 'app:1', imageId: 'sha256:x', labels, hostname: 'h', tty: false, running: true, logDriver: 'json-file',
});

/**
 * The built templates' settings and mappings on an index of this test's own: the shared
 * `dockward@*` templates are left alone (other test runs install theirs), and stand-ins apply
 * where the cluster lacks a type, as `setup` does.
 */
async function createIndex(es: ReturnType<typeof adminClient>, index: string): Promise<void> {
  const { component_templates: c } = indexTemplatesStep.render() as { component_templates: Record<string, { template: { settings?: Record<string, unknown>; mappings?: Record<string, unknown> } }> };
  let mappings = c['dockward@mappings'].template.mappings!;
  const settings = { ...c['dockward@settings'].template.settings };
  delete settings['index.refresh_interval'];
  for (;;) {
    try {
      await es.indices.create({ index, settings, mappings });
      return;
    } catch (err) {
      const m = MISSING_TYPE.exec(JSON.stringify((err as { meta?: { body?: unknown } }).meta?.body ?? String(err)));
      const type = m?.[1] ?? m?.[2];
      if (!type || !TYPE_FALLBACKS[type]) throw err;
      mappings = replaceType(mappings, type) as Record<string, unknown>;
    }
  }
}

describe('bounded labels and flattened fields against the built templates (real Elasticsearch)', () => {
  const es = adminClient();
  const index = `dwtest-labels-${newNamespace()}`;
  before(() => createIndex(es, index));
  after(async () => {
    await es.indices.delete({ index }, { ignore: [404] });
    await es.close();
  });

  const put = (id: string, doc: Record<string, unknown>) => es.index({ index, id, document: { '@timestamp': new Date().toISOString(), message: 'hi', ...doc } });

  it('accepts the documents of a container with a 40 KB label and of one with 10,000 labels; both stay small', async () => {
    const forty = meta('a', { note: 'x'.repeat(40_000), ['k'.repeat(40_000)]: 'v', team: 'red' });
    const many = meta('b', Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`l${i}`, `v${i}`])));
    // Values over 32 KB where dockward does not write them itself: the engine's event attributes and a JSON log line.
    const long = 'y'.repeat(40_000);
    await put('forty', { container: containerFields(forty), docker: { event: { actor: { attributes: { big: long } } } }, dockward: { json: { msg: long } } });
    await put('many', { container: containerFields(many) });
    await es.indices.refresh({ index });

    const got = async (id: string) => (await es.get<{ container: { labels: Record<string, string>; labels_truncated: number } }>({ index, id }))._source!.container;
    const a = await got('forty');
    assert.deepEqual(Object.keys(a.labels).sort(), ['note', 'team']);
    assert.equal(Buffer.byteLength(a.labels.note), 1024);
    assert.equal(a.labels_truncated, 2);
    assert.ok(Buffer.byteLength(JSON.stringify(a)) < 2048, `${Buffer.byteLength(JSON.stringify(a))} bytes of container fields`);
    const b = await got('many');
    assert.equal(Object.keys(b.labels).length, 128);
    assert.equal(b.labels_truncated, 10_000 - 128);
    assert.ok(Buffer.byteLength(JSON.stringify(b)) < 4096, `${Buffer.byteLength(JSON.stringify(b))} bytes of container fields`);

    // Indexed, not only stored: the bounded labels and the flag answer queries.
    const hits = async (query: Record<string, unknown>) => (await es.search({ index, query, _source: false })).hits.hits.map((h) => h._id).sort();
    assert.deepEqual(await hits({ term: { 'container.labels.team': 'red' } }), ['forty']);
    assert.deepEqual(await hits({ term: { 'container.labels.l0': 'v0' } }), ['many']);
    assert.deepEqual(await hits({ range: { 'container.labels_truncated': { gte: 100 } } }), ['many']);
    assert.deepEqual(await hits({ exists: { field: 'docker.event.actor.attributes.big' } }), [], 'over ignore_above: kept in _source, not indexed');
  });

  it('refuses a label key over 32 KB whatever the mapping: why containerFields leaves such keys out', async () => {
    await assert.rejects(put('raw', { container: { id: 'c', labels: { ['k'.repeat(40_000)]: 'v' } } }), (err: { meta?: { body?: unknown } }) => {
      assert.match(JSON.stringify(err.meta?.body), /keyed encoding is longer than the allowed max length/);
      return true;
    });
    await put('bounded', { container: containerFields(meta('c', { ['k'.repeat(40_000)]: 'v' })) });
  });

  it('maps the drift summary document', async () => {
    const entries = JSON.stringify(Array.from({ length: 30 }, (_, i) => ({ Path: `/tmp/${i}`, Kind: i % 3 })));
    const docs: Envelope[] = [];
    const ctx = {
      namespace: 'default', telemetry: { event() {} },
      docker: { modem: { dial: (_o: object, cb: (e: unknown, r: Readable) => void) => cb(null, Readable.from([Buffer.from(entries)])) } } as unknown as Docker,
      output: { send: (e: Envelope) => docs.push(e), writable: true, whenWritable: async () => {} },
    } as unknown as CollectorContext;
    const c = new DriftCollector(ctx, driftConfig.parse({ stagger: '0s', max_changes_per_scan: 10 }));
    await (c as unknown as { poll(m: ContainerMeta): Promise<void> }).poll(meta('d', {}));
    assert.equal(docs.length, 11);
    const body = docs.flatMap((e) => [{ create: { _index: index, _id: e.id } }, e.doc]);
    const r = await es.bulk({ operations: body, refresh: true });
    assert.equal(r.errors, false, JSON.stringify(r.items.find((i) => i.create?.error)));
    const s = await es.search({ index, query: { bool: { filter: [{ term: { 'dockward.drift.summary': true } }, { range: { 'dockward.drift.kinds.creation': { gte: 5 } } }, { term: { 'dockward.drift.sample': '/tmp/10' } }] } } });
    assert.equal(s.hits.hits.length, 1);
    assert.equal((s.hits.hits[0]._source as { dockward: { drift: { count: number } } }).dockward.drift.count, 20);
  });
});
