import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { IlmPutLifecycleRequest, IngestPutPipelineRequest, WatcherPutWatchRequest } from '@elastic/elasticsearch/lib/api/types';
import { esQueryRules } from '../../src/setup/alert-rules';
import { dataLifecycle, ilmPolicy, lifecycleComponent, retentionClass } from '../../src/setup/lifecycle-defs';
import { PIPELINES } from '../../src/setup/pipeline-defs';
import { processorsUsed } from '../../src/setup/pipelines';
import { retentionConfig, watchersConfig } from '../../src/setup/setup-config';
import { watchDefs } from '../../src/setup/watch-defs';

/*
 * Type-level checks: the bodies are declared with the Elasticsearch client's own request types,
 * so `tsc` (strict) rejects a wrong shape. These lines prove the types are strict enough to catch
 * one (if a type degraded to `any`, the @ts-expect-error lines would fail the build).
 */
// @ts-expect-error grok without patterns is not a pipeline processor
export const badPipeline: IngestPutPipelineRequest = { id: 'x', processors: [{ grok: { field: 'message' } }] };
// @ts-expect-error a watch condition takes known condition kinds only
export const badWatch: WatcherPutWatchRequest = { id: 'x', condition: { sometimes: {} } };
// @ts-expect-error ILM phases have fixed names
export const badPolicy: IlmPutLifecycleRequest = { name: 'x', policy: { phases: { lukewarm: { actions: {} } } } };
export const pipelinesTyped: IngestPutPipelineRequest[] = PIPELINES;
export const watchesTyped: WatcherPutWatchRequest[] = watchDefs({ cfg: watchersConfig.parse({}), namespace: '*' }).map((d) => d.body);

describe('pipeline, retention, watch and rule bodies (shape; the test cluster has none of these engines)', () => {
  it('pipelines keep the original on failure; the processors they use are exactly those setup probes the node for', () => {
    for (const p of PIPELINES) {
      assert.ok(p.on_failure?.some((f) => f.set?.field === 'error.message'), `${p.id} records the failure`);
      assert.ok(!JSON.stringify(p).includes('"remove"'), `${p.id} never removes fields`);
    }
    assert.deepEqual(processorsUsed(), ['append', 'convert', 'grok', 'json', 'lowercase', 'pipeline', 'set']);
  });

  it('retention: ILM rolls over and deletes after the configured period; DSL carries the same period', () => {
    const cfg = retentionConfig.parse({ logs: '7d' });
    assert.deepEqual(ilmPolicy('logs', cfg).policy!.phases!.delete, { min_age: '7d', actions: { delete: {} } });
    assert.equal(ilmPolicy('alerts', cfg).policy!.phases!.delete!.min_age, '365d');
    assert.equal(ilmPolicy('stats', cfg).policy!.phases!.delete!.min_age, '14d');
    assert.ok(ilmPolicy('stats', cfg).policy!.phases!.hot!.actions!.rollover);
    assert.equal(retentionClass('dockward.audit'), 'audit');
    assert.equal(retentionClass('dockward.config'), 'config');
    assert.deepEqual(lifecycleComponent('logs', 'dockward.alert', cfg).template, { settings: { 'index.lifecycle.name': 'dockward-alerts' } });
    const dsl = retentionConfig.parse({ mode: 'dsl' });
    assert.deepEqual(lifecycleComponent('metrics', 'dockward.stats', dsl).template.lifecycle, { enabled: true, data_retention: '14d' });
    assert.equal(dataLifecycle('logs-dockward.alert-*', 'alerts', dsl).data_retention, '365d');
  });

  it('watches: throttled, with metadata, schedule from config, and log/index/webhook actions as configured', () => {
    const plain = watchDefs({ cfg: watchersConfig.parse({}), namespace: '*' });
    assert.equal(plain.length, 5);
    for (const w of plain) {
      assert.equal(w.body.throttle_period, '15m');
      assert.equal(w.body.metadata!.managed_by, 'dockward');
      assert.deepEqual(w.body.trigger, { schedule: { interval: '1m' } });
      assert.deepEqual(Object.keys(w.body.actions!), ['log']);
      assert.equal(w.body.input!.search!.request.rest_total_hits_as_int, true);
    }
    const full = watchDefs({ cfg: watchersConfig.parse({ index: 'logs-dockward.watcher-default', webhook: 'https://hooks.example:8443/dockward', throttle: '1h' }), namespace: 'prod' });
    const a = full[0].body.actions!;
    assert.deepEqual(a.index.index, { index: 'logs-dockward.watcher-default', op_type: 'create', execution_time_field: '@timestamp' });
    assert.equal(a.webhook.webhook!.host, 'hooks.example');
    assert.equal(a.webhook.webhook!.port, 8443);
    assert.equal(a.webhook.webhook!.scheme, 'https');
    assert.equal(full[0].body.input!.search!.request.indices![0], 'logs-dockward.alert-prod');
  });

  it('Basic-licence rules follow the documented .es-query schema and use only Basic connectors', () => {
    const rules = esQueryRules(watchersConfig.parse({ index: 'logs-dockward.watcher-default' }));
    assert.equal(rules.length, 5);
    for (const { rule } of rules) {
      assert.equal(rule.rule_type_id, '.es-query');
      assert.equal(rule.consumer, 'stackAlerts');
      const q = JSON.parse(rule.params.esQuery) as { query?: unknown };
      assert.ok(q.query, 'esQuery is a JSON string containing query');
      assert.ok(!JSON.stringify(q).includes('"range"'), 'the time window is the rule\'s, not the query\'s');
      assert.ok(rule.params.size >= 0 && rule.params.size <= 10000);
      assert.ok(rule.params.timeWindowSize >= 1);
      if (rule.params.aggType !== 'count') assert.ok(rule.params.aggField);
      if (rule.params.groupBy === 'top') assert.ok(rule.params.termField && rule.params.termSize);
      assert.ok(rule.actions.every((a) => a.group === 'query matched' && ['dockward-server-log', 'dockward-index'].includes(a.id)));
    }
  });
});
