import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { ChaosProxy } from '../support/chaos-proxy';
import { adminClient, engines, newNamespace, ROOT } from '../support/engines';
import { removeContainers, retryEngine, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForCount } from '../support/elasticsearch';

/**
 * Fault drills under a steady load of about 2,600 lines/s from four containers, each ending with an
 * exact comparison of what the containers printed and what Elasticsearch holds.
 */
const CONTAINERS = 4;
const RATE = 650; // lines/s per container: 50 lines, then 75 ms of sleep

interface Drill {
  ns: string;
  index: string;
  ids: string[];
  expected: Set<string>;
  dockward: () => DockwardProcess;
}

function loadCommand(prefix: string, lines: number): string[] {
  return ['sh', '-c', `i=0; while [ $i -lt ${lines} ]; do i=$((i+1)); echo "${prefix} $i"; [ $((i % 50)) = 0 ] && usleep 75000; done`];
}

function script(name: string, ...args: string[]): void {
  execFileSync(join(ROOT, 'scripts', name), args, { stdio: ['ignore', 'ignore', 'inherit'] });
}

describe('delivery under faults: 0 lost, 0 duplicated', () => {
  const { docker } = engines();
  const es = adminClient();
  const procs: DockwardProcess[] = [];
  const namespaces: string[] = [];
  after(async () => {
    await Promise.all(procs.map((p) => p.kill()));
    for (const ns of namespaces) await removeContainers(docker, ns);
    await es.close();
  });

  /** Starts the load and dockward, runs the fault, waits for every line, compares exactly. */
  async function drill(name: string, seconds: number, sets: string[], fault: (d: Drill) => Promise<void>, target: Client = es): Promise<Record<string, number>> {
    const ns = newNamespace(name);
    namespaces.push(ns);
    const lines = RATE * seconds;
    const started = await Promise.all(
      Array.from({ length: CONTAINERS }, (_, k) => runContainer(docker, { name: `${ns}-${k}`, cmd: loadCommand(`${name}${k}`, lines) })),
    );
    const expected = new Set<string>();
    for (let k = 0; k < CONTAINERS; k++) for (let i = 1; i <= lines; i++) expected.add(`${name}${k} ${i}`);
    let current = DockwardProcess.run({ namespace: ns, sets: [...sets, 'collectors.events.enabled=false'] });
    procs.push(current);
    const d: Drill = {
      ns, index: `logs-dockward.container-${ns}`, ids: started.map((c) => c.id), expected,
      dockward: () => current,
    };
    const restart = () => {
      current = DockwardProcess.run({ namespace: ns, stateDir: current.stateDir, sets: [...sets, 'collectors.events.enabled=false'] });
      procs.push(current);
      return current;
    };
    (d as Drill & { restart: () => DockwardProcess }).restart = restart;
    await current.waitFor(/dockward running/);
    await fault(d);
    for (const id of d.ids) {
      while ((await docker.getContainer(id).inspect().catch(() => ({ State: { Running: true } }))).State.Running) await new Promise((r) => setTimeout(r, 500));
    }
    const total = expected.size;
    const n = await waitForCount(target, d.index, total, 240_000, { terms: { 'container.id': d.ids } }, () => current.alive());
    assert.equal(n, total, current.log.slice(-3000));
    await new Promise((r) => setTimeout(r, 1500)); // a wrongly re-sent line would show up now
    const metrics = await current.metrics().catch(() => ({}) as Record<string, number>);
    const docs = await fetchAll<{ message: string }>(target, d.index, { terms: { 'container.id': d.ids } });
    const seen = new Map<string, number>();
    for (const doc of docs) seen.set(doc.message, (seen.get(doc.message) ?? 0) + 1);
    const missing = [...expected].filter((m) => !seen.has(m)).length;
    const duplicated = [...seen.values()].reduce((a, c) => a + c - 1, 0);
    const unexpected = [...seen.keys()].filter((m) => !expected.has(m)).length;
    assert.deepEqual({ missing, duplicated, unexpected }, { missing: 0, duplicated: 0, unexpected: 0 });
    console.log(`# ${name}: ${CONTAINERS} containers x ${lines} lines = ${total} printed, ${docs.length} in Elasticsearch, 0 missing, 0 duplicated; ` +
      `retried ${sum(metrics, 'dockward_documents_retried_total')}, 409-duplicates ${metrics['dockward_documents_total{outcome=duplicate}'] ?? 0} (this process), spool peak ${Math.round((metrics.dockward_queue_peak_bytes ?? 0) / 1024)} KiB`);
    return metrics;
  }

  it('Elasticsearch stopped for 60 s and started again', async () => {
    await drill('esdown', 90, ['output.backoff_max=5s'], async (d) => {
      await waitForCount(es, d.index, 10_000, 60_000, undefined, () => d.dockward().alive());
      script('elasticsearch.sh', 'stop', 'plain');
      try {
        await new Promise((r) => setTimeout(r, 60_000));
        const h = await d.dockward().health();
        assert.equal(h.body.status, 'degraded', 'health shows the outage');
      } finally {
        script('elasticsearch.sh', 'start', 'plain');
      }
    });
  });

  it('a proxy that resets connections and delays responses at random', async () => {
    const proxy = new ChaosProxy({ host: '127.0.0.1', port: Number(new URL(engines().esUrl).port) }, { resetChance: 0.03, delayChance: 0.1, maxDelayMs: 1500 });
    const port = await proxy.listen();
    try {
      await drill('chaos', 30, [`elasticsearch.hosts=[http://127.0.0.1:${port}]`, 'output.backoff_initial=100ms', 'output.backoff_max=2s', 'logging.elasticsearch.enabled=false'], async () => undefined);
      assert.ok(proxy.resets > 0 && proxy.delayed > 0, `resets ${proxy.resets}, delays ${proxy.delayed}`);
      console.log(`# chaos: proxy reset ${proxy.resets} connections and delayed ${proxy.delayed} chunks`);
    } finally {
      await proxy.close();
    }
  });

  it('Elasticsearch answering 429 (one write thread, write queue of one)', async () => {
    const tiny = new Client({ node: engines().tinyUrl });
    try {
      const m = await drill('tiny', 30, [`elasticsearch.hosts=[${engines().tinyUrl}]`, 'output.concurrency=6', 'output.bulk_max_docs=300', 'output.backoff_initial=100ms', 'output.backoff_max=2s'], async () => undefined, tiny);
      assert.ok((m['dockward_documents_retried_total{reason=429}'] ?? 0) > 0, `429s were answered and retried: ${JSON.stringify(m)}`);
    } finally {
      await tiny.close();
    }
  });

  it('dockward killed with SIGKILL 10 times at random moments', async () => {
    await drill('kill10', 40, [], async (d) => {
      const restart = (d as Drill & { restart: () => DockwardProcess }).restart;
      for (let i = 0; i < 10; i++) {
        await new Promise((r) => setTimeout(r, 1000 + Math.random() * 2500));
        await d.dockward().kill('SIGKILL');
        restart();
      }
    });
  });

  it('dockerd restarted while containers keep running (live-restore)', async () => {
    await drill('dockerd', 40, [], async (d) => {
      await waitForCount(es, d.index, 10_000, 60_000, undefined, () => d.dockward().alive());
      script('dockerd.sh', 'restart');
      const still = await Promise.all(d.ids.map((id) => retryEngine(() => docker.getContainer(id).inspect())));
      assert.ok(still.every((c) => c.State.Running), 'containers survived the engine restart');
    });
  });
});

function sum(m: Record<string, number>, prefix: string): number {
  return Object.entries(m).filter(([k]) => k.startsWith(prefix)).reduce((a, [, v]) => a + v, 0);
}
