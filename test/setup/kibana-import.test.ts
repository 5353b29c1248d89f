import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import winston from 'winston';
import { savedObjects, toNdjson } from '../../src/kibana/bundle';
import { dashboardsStep } from '../../src/setup/kibana';
import { defaultAssetOptions, kibanaConfig } from '../../src/setup/setup-config';
import type { SetupContext } from '../../src/setup/step';
import { Telemetry } from '../../src/telemetry/telemetry';
import { FakeKibana } from './fake-kibana';

/** The import client against a stand-in that answers as Kibana documents: HTTP behaviour only. */
describe('setup --dashboards: the saved-objects import client (fake Kibana on 127.0.0.1)', () => {
  const fake = new FakeKibana();
  let url = '';
  before(async () => { url = await fake.start(); });
  after(() => fake.close());
  const ctx = (kibana: Record<string, unknown>): SetupContext => ({
    // The step talks to Kibana only; the Elasticsearch parts of the context are not used.
    client: undefined as never, cluster: undefined as never, telemetry: new Telemetry(winston.createLogger({ silent: true })),
    options: defaultAssetOptions({ kibana: kibanaConfig.parse({ url, ...kibana }) }),
  });
  const n = savedObjects().length;

  it('uploads the bundle as multipart field "file" (.ndjson) with kbn-xsrf, overwrite and auth; the first run creates all', async () => {
    const first = await dashboardsStep.run(ctx({ username: 'kadmin', password: 's3cret' }));
    assert.equal(first.length, n);
    assert.ok(first.every((r) => r.status === 'created'), JSON.stringify(first));
    const s = fake.seen.at(-1)!;
    assert.equal(s.url, '/api/saved_objects/_import?overwrite=true');
    assert.equal(s.headers['kbn-xsrf'], 'true');
    assert.equal(s.headers.authorization, `Basic ${Buffer.from('kadmin:s3cret').toString('base64')}`);
    assert.equal(s.field, 'file');
    assert.equal(s.filename, 'dockward.ndjson');
    assert.equal(s.ndjson, toNdjson());
    assert.equal(fake.seen.at(-2)!.url, '/api/saved_objects/_export', 'asked what Kibana holds before importing');
  });

  it('a second run exports the bundle\'s ids, finds them identical and imports nothing', async () => {
    const before = fake.seen.length;
    const second = await dashboardsStep.run(ctx({}));
    assert.equal(second.length, n);
    assert.ok(second.every((r) => r.status === 'unchanged'), JSON.stringify(second.filter((r) => r.status !== 'unchanged')));
    assert.deepEqual(fake.seen.slice(before).map((x) => x.url), ['/api/saved_objects/_export'], 'one export, no import');
  });

  it('re-imports only what differs in Kibana (an edited title, a removed panel), as updated; keys Kibana added do not count', async () => {
    const dash = fake.stored.get('default|dashboard/dockward-overview')!;
    fake.stored.set('default|dashboard/dockward-overview', { ...dash, attributes: { ...dash.attributes, panelsJSON: JSON.stringify(JSON.parse(String(dash.attributes.panelsJSON)).slice(1)) } });
    const view = fake.stored.get('default|index-pattern/dockward-stats')!;
    fake.stored.set('default|index-pattern/dockward-stats', { ...view, attributes: { ...view.attributes, title: 'metrics-*' } });
    // What a migration may add: a new attribute, and a key inside a JSON-string attribute.
    const search = fake.stored.get('default|search/dockward-dead-letters')!;
    const source = JSON.parse(String((search.attributes.kibanaSavedObjectMeta as { searchSourceJSON: string }).searchSourceJSON));
    fake.stored.set('default|search/dockward-dead-letters', { ...search, typeMigrationVersion: '10.9.0', attributes: { ...search.attributes, tabs: [], kibanaSavedObjectMeta: { searchSourceJSON: JSON.stringify({ ...source, highlightAll: true }) } } });
    const r = await dashboardsStep.run(ctx({}));
    assert.deepEqual(r.filter((x) => x.status !== 'unchanged').map((x) => `${x.status} ${x.target}`), ['updated index-pattern dockward-stats', 'updated dashboard dockward-overview']);
    const sent = fake.seen.at(-1)!.ndjson!.trim().split('\n').map((l) => JSON.parse(l) as { type: string; id: string });
    assert.deepEqual(sent.map((o) => `${o.type}/${o.id}`), ['index-pattern/dockward-stats', 'dashboard/dockward-overview']);
    assert.ok((await dashboardsStep.run(ctx({}))).every((x) => x.status === 'unchanged'));
  });

  it('an object deleted in Kibana (the export\'s 400 names it) is created again; the rest stay unchanged', async () => {
    fake.stored.delete('default|search/dockward-file-drift');
    const before = fake.seen.length;
    const r = await dashboardsStep.run(ctx({}));
    assert.deepEqual(r.filter((x) => x.status !== 'unchanged').map((x) => `${x.status} ${x.target}`), ['created search dockward-file-drift']);
    assert.deepEqual(fake.seen.slice(before).map((x) => x.url), ['/api/saved_objects/_export', '/api/saved_objects/_export', '/api/saved_objects/_import?overwrite=true'], 'asked again without the missing one, then imported it alone');
    assert.equal(fake.seen.at(-1)!.ndjson!.trim().split('\n').length, 1);
  });

  it('goes to /s/<space>/ and names an unknown space', async () => {
    const ok = await dashboardsStep.run(ctx({ space: 'secops', api_key: 'aWQ6a2V5' }));
    assert.equal(fake.seen.at(-1)!.url, '/s/secops/api/saved_objects/_import?overwrite=true');
    assert.equal(fake.seen.at(-1)!.headers.authorization, 'ApiKey aWQ6a2V5');
    assert.equal(ok.length, n);
    await assert.rejects(dashboardsStep.run(ctx({ space: 'nope' })), /Kibana has no space "nope".*404.*space\/nope/);
  });

  it('reports each per-object error Kibana returns inside a 200, and marks the rest not written', async () => {
    fake.stored.clear();
    fake.respond = (objs) => ({
      status: 200,
      body: {
        success: false, successCount: 0, warnings: [],
        errors: [
          { type: 'dashboard', id: objs.find((o) => o.type === 'dashboard')!.id, meta: { title: 'x' }, error: { type: 'missing_references', references: [{ type: 'index-pattern', id: 'dockward-alerts' }] } },
          { type: 'search', id: 'dockward-dead-letters', meta: {}, error: { type: 'unknown', message: 'Document "dockward-dead-letters" belongs to a more recent version of Kibana [10.9.0]', statusCode: 400 } },
          { type: 'index-pattern', id: 'dockward-logs', meta: {}, error: { type: 'conflict', destinationId: 'dockward-logs' } },
        ],
      },
    });
    const r = await dashboardsStep.run(ctx({}));
    const failed = r.filter((x) => x.status === 'failed');
    assert.equal(failed.length, n, 'resolvable errors mean Kibana wrote nothing');
    assert.match(r.find((x) => x.target === 'dashboard dockward-overview')!.message, /missing_references: missing references index-pattern\/dockward-alerts/);
    assert.match(r.find((x) => x.target === 'search dockward-dead-letters')!.message, /unknown: .*more recent version of Kibana/);
    assert.match(r.find((x) => x.target === 'index-pattern dockward-logs')!.message, /^conflict/);
    assert.match(r.find((x) => x.target === 'index-pattern dockward-alerts')!.message, /Kibana wrote nothing/);
  });

  it('turns 401 and 403 into a message about credentials or privileges', async () => {
    for (const status of [401, 403]) {
      fake.respond = () => ({ status, body: { statusCode: status, error: status === 401 ? 'Unauthorized' : 'Forbidden', message: status === 401 ? '[security_exception]: unable to authenticate user' : 'Unable to bulk_create index-pattern' } });
      await assert.rejects(dashboardsStep.run(ctx({ username: 'u', password: 'p' })), new RegExp(`refused the credentials or the privilege.*${status}`));
    }
  });

  it('skips with one line when no Kibana is configured, and fails clearly when it is unreachable', async () => {
    const none = await dashboardsStep.run({ ...ctx({}), options: defaultAssetOptions() });
    assert.deepEqual(none.map((r) => r.status), ['skipped']);
    assert.match(none[0].message, /setup\.kibana\.url is not set/);
    const down = { ...ctx({}), options: defaultAssetOptions({ kibana: kibanaConfig.parse({ url: 'http://127.0.0.1:9' }) }) };
    await assert.rejects(dashboardsStep.run(down), /Kibana at http:\/\/127\.0\.0\.1:9 is not reachable/);
  });
});
