import assert from 'node:assert/strict';
import { after, before, beforeEach, describe, it } from 'node:test';
import winston from 'winston';
import { connectors, esQueryRules, INDEX_CONNECTOR, SERVER_LOG } from '../../src/setup/alert-rules';
import { kibanaId, spaceId } from '../../src/setup/kibana-rules';
import { defaultAssetOptions, kibanaConfig, watchersConfig } from '../../src/setup/setup-config';
import type { SetupContext } from '../../src/setup/step';
import { watchersStep } from '../../src/setup/watchers';
import { Telemetry } from '../../src/telemetry/telemetry';
import { FakeKibanaAlerting, KIBANA_UUID } from './fake-kibana-alerting';

const RULES = esQueryRules(watchersConfig.parse({})).map((r) => r.id);

/**
 * `setup --watchers` on a Basic licence: connectors and `.es-query` rules over Kibana's HTTP API,
 * against a stand-in answering with the documented shapes. HTTP behaviour and idempotence only.
 */
describe('setup --watchers on Basic: Kibana connectors and .es-query rules (fake Kibana on 127.0.0.1)', () => {
  let fake: FakeKibanaAlerting;
  let url = '';
  before(async () => { fake = new FakeKibanaAlerting(); url = await fake.start(); });
  after(() => fake.close());
  beforeEach(() => {
    fake.connectors.clear(); fake.rules.clear(); fake.seen.length = 0;
    fake.auth = undefined; fake.forbidWrites = false;
  });
  const ctx = (kibana: Record<string, unknown>, watchers: Record<string, unknown> = { index: 'logs-dockward.notify-default' }): SetupContext => ({
    // A Basic licence: the step decides from it and never asks Elasticsearch for Watcher.
    client: undefined as never, cluster: { version: '9.2.8', major: 9, nodeName: 'n', license: { type: 'basic', status: 'active' } } as never,
    telemetry: new Telemetry(winston.createLogger({ silent: true })),
    options: defaultAssetOptions({ kibana: kibanaConfig.parse({ url, ...kibana }), watchers: watchersConfig.parse(watchers) }),
  });

  it('derives fixed ids Kibana accepts for encrypted objects (name-based UUIDs), one per logical id', () => {
    const ids = [SERVER_LOG, INDEX_CONNECTOR, ...RULES].map(kibanaId);
    for (const id of ids) assert.match(id, KIBANA_UUID);
    assert.equal(new Set(ids).size, ids.length);
    assert.equal(kibanaId('dockward-high-alert'), kibanaId('dockward-high-alert'));
    assert.equal(kibanaId('dockward-high-alert')[14], '5', 'version 5');
  });

  it('creates both connectors, then the five rules wired to them, with auth and kbn-xsrf', async () => {
    const auth = `Basic ${Buffer.from('kadmin:s3cret').toString('base64')}`;
    fake.auth = auth;
    const r = await watchersStep.run(ctx({ username: 'kadmin', password: 's3cret' }));
    assert.match(r[0].message, /Watcher needs a Gold or higher licence \(this cluster: basic, active\); installing Kibana rules instead/);
    assert.deepEqual(r.slice(1).map((x) => `${x.status} ${x.target}`), [
      `created Kibana connector ${SERVER_LOG}`, `created Kibana connector ${INDEX_CONNECTOR}`, ...RULES.map((id) => `created Kibana rule ${id}`),
    ]);
    assert.equal(fake.connectors.size, 2);
    assert.equal(fake.rules.size, 5);
    const posts = fake.writes();
    assert.ok(posts.every((p) => p.method === 'POST' && p.headers['kbn-xsrf'] === 'true' && p.headers.authorization === auth));
    assert.equal(posts[0].url, `/api/actions/connector/${kibanaId(SERVER_LOG)}`);
    assert.deepEqual(posts[1].body, { name: 'dockward: logs-dockward.notify-default', connector_type_id: '.index', config: { index: 'logs-dockward.notify-default', refresh: false, executionTimeField: '@timestamp' }, secrets: {} });
    const high = fake.rules.get(`default/${kibanaId('dockward-high-alert')}`)!;
    assert.equal(high.rule_type_id, '.es-query');
    assert.equal(high.consumer, 'stackAlerts');
    assert.deepEqual((high.actions as Array<{ id: string; connector_type_id: string }>).map((a) => [a.id, a.connector_type_id]), [[kibanaId(SERVER_LOG), '.server-log'], [kibanaId(INDEX_CONNECTOR), '.index']]);
    assert.ok((high.tags as string[]).some((t) => /^dockward-hash:[0-9a-f]{16}$/.test(t)));
  });

  it('a second run writes nothing and reports every object unchanged', async () => {
    await watchersStep.run(ctx({}));
    const before = fake.writes().length;
    const second = await watchersStep.run(ctx({}));
    assert.deepEqual(second.slice(1).map((x) => x.status), Array(7).fill('unchanged'));
    assert.equal(fake.writes().length, before, 'no POST or PUT on the second run');
    assert.equal(fake.connectors.size, 2);
    assert.equal(fake.rules.size, 5);
  });

  it('a changed setting updates the rules in place with PUT (no type, consumer or enabled) and keeps the connectors', async () => {
    await watchersStep.run(ctx({}));
    fake.seen.length = 0;
    const r = await watchersStep.run(ctx({}, { index: 'logs-dockward.notify-default', throttle: '30m' }));
    assert.deepEqual(r.slice(1).map((x) => x.status), ['unchanged', 'unchanged', ...Array(5).fill('updated')]);
    const puts = fake.writes();
    assert.equal(puts.length, 5);
    assert.ok(puts.every((p) => p.method === 'PUT' && p.url.startsWith('/api/alerting/rule/')));
    assert.equal(fake.rules.size, 5);
    const rule = fake.rules.get(`default/${kibanaId('dockward-dead-letters')}`)!;
    assert.equal((rule.actions as Array<{ frequency: { throttle: string } }>)[0].frequency.throttle, '30m');
    assert.equal(rule.revision, 1);
  });

  it('a connector whose name or config changed is updated with PUT (no connector_type_id)', async () => {
    await watchersStep.run(ctx({}));
    fake.seen.length = 0;
    const r = await watchersStep.run(ctx({}, { index: 'logs-dockward.page-default' }));
    assert.equal(r.find((x) => x.target === `Kibana connector ${INDEX_CONNECTOR}`)!.status, 'updated');
    assert.equal(r.find((x) => x.target === `Kibana connector ${SERVER_LOG}`)!.status, 'unchanged');
    const put = fake.writes().find((p) => p.url.includes(kibanaId(INDEX_CONNECTOR)))!;
    assert.equal(put.method, 'PUT');
    assert.equal(put.body!.connector_type_id, undefined);
    assert.equal((fake.connectors.get(`default/${kibanaId(INDEX_CONNECTOR)}`)!.config as { index: string }).index, 'logs-dockward.page-default');
  });

  it('an object created meanwhile (409 on create) is updated instead, never duplicated', async () => {
    await watchersStep.run(ctx({}, {}));
    fake.rules.forEach((rule) => { rule.tags = ['dockward']; }); // another version's rules: no matching hash
    fake.hideOnce.add(kibanaId('dockward-alert-burst'));
    fake.seen.length = 0;
    const r = await watchersStep.run(ctx({}, {}));
    assert.equal(r.find((x) => x.target === 'Kibana rule dockward-alert-burst')!.status, 'updated');
    assert.deepEqual(fake.writes().filter((w) => w.url.endsWith(kibanaId('dockward-alert-burst'))).map((w) => w.method), ['POST', 'PUT']);
    assert.equal(fake.rules.size, 5);
    assert.equal(fake.connectors.size, 1, 'no index connector without setup.watchers.index');
  });

  it('goes to /s/<space>/ and names an unknown space', async () => {
    await watchersStep.run(ctx({}));
    fake.seen.length = 0;
    // Ids are unique across spaces in Kibana: a second space needs ids of its own, or every create there is a 409.
    const r = await watchersStep.run(ctx({ space: 'secops' }));
    assert.deepEqual([...new Set(r.slice(1).map((x) => x.status))], ['created'], JSON.stringify(r));
    assert.ok(fake.seen.every((s) => s.url.startsWith('/s/secops/api/')));
    assert.equal([...fake.rules.keys()].filter((k) => k.startsWith('secops/')).length, 5);
    assert.ok(fake.rules.has(`secops/${spaceId('dockward-high-alert', 'secops')}`));
    assert.notEqual(spaceId('dockward-high-alert', 'secops'), kibanaId('dockward-high-alert'));
    assert.equal(spaceId('dockward-high-alert', 'default'), kibanaId('dockward-high-alert'), 'the default space keeps the plain ids');
    const actions = fake.rules.get(`secops/${spaceId('dockward-high-alert', 'secops')}`)!.actions as Array<{ id: string }>;
    assert.deepEqual(actions.map((a) => a.id), [spaceId(SERVER_LOG, 'secops'), spaceId(INDEX_CONNECTOR, 'secops')], 'actions point at this space\'s connectors');
    assert.ok(r.slice(1).every((x) => x.status === 'created'));
    await assert.rejects(watchersStep.run(ctx({ space: 'nope' })), /Kibana has no space "nope".*404.*space\/nope/);
  });

  it('turns 401 and 403 into a message about credentials or privileges', async () => {
    fake.auth = 'ApiKey right';
    await assert.rejects(watchersStep.run(ctx({ api_key: 'wrong' })), /refused the credentials or the privilege to create connectors and rules.*401/);
    fake.auth = undefined;
    fake.forbidWrites = true;
    await assert.rejects(watchersStep.run(ctx({})), /refused the credentials or the privilege.*403.*Unauthorized/);
    assert.equal(fake.connectors.size + fake.rules.size, 0);
  });

  it('skips with one line on Basic without setup.kibana.url', async () => {
    const r = await watchersStep.run({ ...ctx({}), options: defaultAssetOptions() });
    assert.deepEqual(r.map((x) => x.status), ['skipped']);
    assert.match(r[0].message, /Gold or higher licence.*setup\.kibana\.url is not set/);
    assert.equal(connectors(watchersConfig.parse({})).length, 1);
  });
});
