import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import winston from 'winston';
import { probeCluster } from '../../src/ship/client';
import { ElasticsearchSink, sinkConfig } from '../../src/ship/elasticsearch-sink';
import type { Envelope, Outcome } from '../../src/ship/envelope';
import { BoundedQueue, sleep } from '../../src/ship/queue';
import { runSetup } from '../../src/setup/steps';
import { Telemetry } from '../../src/telemetry/telemetry';
import { adminClient, newNamespace } from '../support/engines';
import { fetchAll } from '../support/elasticsearch';

function quietTelemetry(): Telemetry {
  return new Telemetry(winston.createLogger({ silent: true }));
}

describe('ElasticsearchSink outcomes (real Elasticsearch)', () => {
  const es = adminClient();
  before(async () => {
    const t = quietTelemetry();
    await runSetup({ client: es, cluster: await probeCluster(es), telemetry: t }, ['index-management']);
  });
  after(() => es.close());

  it('acks, recognises duplicates by id, and dead-letters an unmappable document with its reason', async () => {
    const ns = newNamespace('sink');
    const index = `logs-dockward.container-${ns}`;
    const telemetry = quietTelemetry();
    const queue = new BoundedQueue(1000, 1 << 24);
    const sink = new ElasticsearchSink(es, queue, sinkConfig.parse({ flush_interval: '50ms' }), ns, telemetry);
    const outcomes = new Map<string, Outcome>();
    const send = (id: string, doc: Record<string, unknown>) => {
      const env: Envelope = { index, id, doc, ack: { done: (o) => outcomes.set(id, o) } };
      queue.push(env);
    };
    sink.start();
    send('good', { '@timestamp': '2026-11-28T10:00:00Z', message: 'fine' });
    send('bad', { '@timestamp': 'yesterday-ish', message: 'unmappable' });
    await waitFor(() => outcomes.size === 2);
    send('good', { '@timestamp': '2026-11-28T10:00:00Z', message: 'fine, sent again after a crash' });
    await waitFor(() => outcomes.size === 2 && outcomes.get('good') !== 'acked');
    await sink.stop();
    assert.deepEqual(Object.fromEntries(outcomes), { good: 'duplicate', bad: 'dead_lettered' });

    const dead = await fetchAll<{ message: string; error: { type: string }; dockward: { deadletter: { index: string; id: string; status: number; document: string } } }>(es, `logs-dockward.deadletter-${ns}`);
    assert.equal(dead.length, 1);
    assert.equal(dead[0].dockward.deadletter.index, index);
    assert.equal(dead[0].dockward.deadletter.id, 'bad');
    assert.equal(dead[0].dockward.deadletter.status, 400);
    assert.match(dead[0].message, /yesterday-ish|failed to parse/);
    assert.deepEqual(JSON.parse(dead[0].dockward.deadletter.document), { '@timestamp': 'yesterday-ish', message: 'unmappable' });
    const snap = await telemetry.snapshot();
    assert.equal(snap['dockward_documents_total{outcome=acked}'], 1);
    assert.equal(snap['dockward_documents_total{outcome=duplicate}'], 1);
    assert.equal(snap['dockward_documents_total{outcome=dead_lettered}'], 1);
  });

  it('retries while the cluster is unreachable and gives no outcome until it answers', async () => {
    const down = new Client({ node: 'http://127.0.0.1:1', maxRetries: 0, requestTimeout: 1000 });
    const telemetry = quietTelemetry();
    const queue = new BoundedQueue(10, 1 << 20);
    const sink = new ElasticsearchSink(down, queue, sinkConfig.parse({ flush_interval: '10ms', backoff_initial: '50ms', backoff_max: '100ms' }), 'x', telemetry);
    let outcome: Outcome | undefined;
    queue.push({ index: 'logs-dockward.container-x', id: 'a', doc: {}, ack: { done: (o) => (outcome = o) } });
    sink.start();
    await sleep(800);
    sink.abandon();
    await sink.stop();
    await down.close();
    assert.equal(outcome, undefined, 'never acknowledged: its source re-reads it');
    const snap = await telemetry.snapshot();
    assert.ok((snap['dockward_documents_retried_total{reason=connection}'] ?? 0) >= 3, JSON.stringify(snap));
  });
});

async function waitFor(cond: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out');
    await sleep(20);
  }
}
