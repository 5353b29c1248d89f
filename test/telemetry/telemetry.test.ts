import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer, seqCommand } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForCount } from '../support/elasticsearch';

describe('own telemetry: metrics, health, heartbeat, own log in Elasticsearch', () => {
  const es = adminClient();
  const { docker } = engines();
  const ns = newNamespace('tel');
  after(async () => {
    await removeContainers(docker, ns);
    await es.close();
  });

  it('counts outcomes, beats, and ships its own log, flushed on SIGTERM', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-c`, cmd: seqCommand('t', 300), wait: true });
    const dw = DockwardProcess.run({ namespace: ns, sets: ['heartbeat.interval=1s'] });
    assert.equal(await waitForCount(es, `logs-dockward.container-${ns}`, 300, 30_000, { term: { 'container.id': id } }, dw.alive), 300);
    const h = await dw.health();
    assert.equal(h.status, 200);
    assert.equal(h.body.status, 'ok');
    const m = await dw.metrics();
    assert.ok(m['dockward_documents_total{outcome=acked}'] >= 300, JSON.stringify(m));
    assert.equal(m['dockward_log_lines_read_total{stream=stdout}'], 300);
    assert.ok(m['dockward_bulk_requests_total{result=ok}'] >= 1);
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal(await dw.kill('SIGTERM'), 0, 'a clean stop exits 0');
    const internal = `logs-dockward.internal-${ns}`;
    const beats = await waitForCount(es, internal, 2, 10_000, { term: { 'event.action': 'heartbeat' } });
    assert.ok(beats >= 2, `heartbeats: ${beats}`);
    const logs = await fetchAll<{ message: string; event: { action: string; dataset: string } }>(es, internal);
    const actions = new Set(logs.map((d) => d.event.action));
    for (const a of ['pipeline.started', 'logs.follow.start', 'pipeline.stopped']) assert.ok(actions.has(a), `${a} in ${[...actions]}`);
    assert.ok(logs.every((d) => d.event.dataset === 'dockward.internal'));
    // Each beat carries what happened since the previous one: over all beats, every line read once.
    type Shipper = { read: { log_lines: number; sources: { container: number } }; output: { acked: number; retried: number }; spool: { bytes: number }; lag: { log_s: number; unacked_s: number } };
    const shipped = (await fetchAll<{ event: { action: string }; dockward?: { shipper?: Shipper } }>(es, internal)).filter((d) => d.event.action === 'heartbeat').map((d) => d.dockward!.shipper!);
    const total = (f: (s: Shipper) => number) => shipped.reduce((n, s) => n + f(s), 0);
    assert.equal(total((s) => s.read.log_lines), 300, 'lines read, summed over the beats');
    assert.equal(total((s) => s.read.sources.container), 300, 'container log documents read, summed over the beats');
    assert.ok(total((s) => s.output.acked) >= 300, 'acked, summed over the beats');
    assert.equal(total((s) => s.output.retried), 0);
    assert.ok(shipped.some((s) => s.spool.bytes > 0), 'the disk spool held bytes at some beat');
    assert.ok(shipped.every((s) => s.lag.log_s >= 0 && s.lag.unacked_s >= 0));
  });

  it('reports degraded health while Elasticsearch cannot be reached', async () => {
    const dw = DockwardProcess.run({ namespace: newNamespace('tel'), sets: ['elasticsearch.hosts=[http://127.0.0.1:1]', 'heartbeat.interval=500ms', 'logging.elasticsearch.enabled=false', 'output.backoff_initial=100ms'] });
    await dw.waitFor(/metrics and health on/);
    let h = await dw.health();
    for (let i = 0; i < 50 && h.body.status === 'ok'; i++) {
      await new Promise((r) => setTimeout(r, 200));
      h = await dw.health();
    }
    await dw.kill();
    assert.equal(h.status, 503);
    assert.equal(h.body.status, 'degraded');
    assert.match(String((h.body.last_error as { reason: string }).reason), /ECONNREFUSED|connect/i);
  });
});
