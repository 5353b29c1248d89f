import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer, seqCommand } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { count, fetchAll, waitForCount } from '../support/elasticsearch';

/** Every message exactly once: returns [missing, duplicated] against `expected`. */
function compare(messages: string[], expected: Set<string>): { missing: number; duplicated: number; unexpected: number } {
  const seen = new Map<string, number>();
  for (const m of messages) seen.set(m, (seen.get(m) ?? 0) + 1);
  let missing = 0;
  let duplicated = 0;
  let unexpected = 0;
  for (const m of expected) if (!seen.has(m)) missing++;
  for (const [m, n] of seen) {
    if (!expected.has(m)) unexpected++;
    if (n > 1) duplicated += n - 1;
  }
  return { missing, duplicated, unexpected };
}

function range(prefix: string, n: number): Set<string> {
  return new Set(Array.from({ length: n }, (_, i) => `${prefix} ${i + 1}`));
}

describe('delivery: exact counts against the real engines', () => {
  const { docker } = engines();
  const es = adminClient();
  const namespaces: string[] = [];
  const procs: DockwardProcess[] = [];

  before(async () => undefined);
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    for (const ns of namespaces) await removeContainers(docker, ns);
    await es.close();
  });

  it('ships a 50,000-line burst: 0 lost, 0 duplicated, and reports lines/s', async () => {
    const ns = newNamespace('burst');
    namespaces.push(ns);
    const index = `logs-dockward.container-${ns}`;
    const { id } = await runContainer(docker, { name: `${ns}-burst`, cmd: seqCommand('burst', 50_000), wait: true });
    const t0 = Date.now();
    const dw = DockwardProcess.run({ namespace: ns, sets: ['collectors.events.enabled=false'] });
    procs.push(dw);
    const n = await waitForCount(es, index, 50_000, 180_000, { term: { 'container.id': id } }, dw.alive);
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(n, 50_000, dw.log.slice(-2000));
    const docs = await fetchAll<{ message: string }>(es, index, { term: { 'container.id': id } });
    assert.deepEqual(compare(docs.map((d) => d.message), range('burst', 50_000)), { missing: 0, duplicated: 0, unexpected: 0 });
    // Throughput from process start (includes node start-up and template check) to all counted.
    console.log(`# burst: 50000 lines in ${seconds.toFixed(1)} s = ${Math.round(50_000 / seconds)} lines/s end to end`);
    await dw.kill('SIGTERM');
  });

  it('SIGKILL mid-burst and restart: 0 missing, 0 duplicated', async () => {
    const ns = newNamespace('kill');
    namespaces.push(ns);
    const index = `logs-dockward.container-${ns}`;
    // One container done with its 50k lines, one still writing while dockward dies.
    const done = await runContainer(docker, { name: `${ns}-done`, cmd: seqCommand('done', 50_000), wait: true });
    const live = await runContainer(docker, {
      name: `${ns}-live`,
      cmd: ['sh', '-c', 'i=0; while [ $i -lt 6000 ]; do i=$((i+1)); echo "live $i"; [ $((i % 200)) = 0 ] && sleep 0.2; done'],
    });
    let dw = DockwardProcess.run({ namespace: ns });
    procs.push(dw);
    const stateDir = dw.stateDir;
    const kills: number[] = [];
    for (const at of [8_000, 30_000]) {
      await waitForCount(es, index, at, 120_000, undefined, dw.alive);
      await dw.kill('SIGKILL');
      kills.push(await count(es, index));
      dw = DockwardProcess.run({ namespace: ns, stateDir });
      procs.push(dw);
    }
    await docker.getContainer(live.id).wait();
    const total = 56_000;
    const n = await waitForCount(es, index, total, 180_000, { terms: { 'container.id': [done.id, live.id] } }, dw.alive);
    assert.equal(n, total, dw.log.slice(-2000));
    // Give a wrongly re-sent line time to show up before the exact comparison.
    await new Promise((r) => setTimeout(r, 1500));
    const docs = await fetchAll<{ message: string }>(es, index, { terms: { 'container.id': [done.id, live.id] } });
    const expected = new Set([...range('done', 50_000), ...range('live', 6000)]);
    assert.deepEqual(compare(docs.map((d) => d.message), expected), { missing: 0, duplicated: 0, unexpected: 0 });
    console.log(`# kill: SIGKILL at ${kills.join(' and ')} documents; after restarts ${docs.length} documents, 0 missing, 0 duplicated`);
  });
});
