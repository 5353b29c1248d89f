import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { Client } from '@elastic/elasticsearch';
import { ChaosProxy } from '../support/chaos-proxy';
import { engines } from '../support/engines';
import { retryEngine } from '../support/containers';
import { Drills, killTenTimes, script } from '../support/drill';
import { waitForCount } from '../support/elasticsearch';

describe('delivery under faults (about 2,600 lines/s): 0 lost, 0 duplicated', () => {
  const { docker } = engines();
  const drills = new Drills();
  const es = drills.es;
  after(() => drills.close());

  it('Elasticsearch stopped for 60 s and started again', async () => {
    await drills.run('esdown', 90, ['output.backoff_max=5s'], async (d) => {
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
      await drills.run('chaos', 30, [`elasticsearch.hosts=[http://127.0.0.1:${port}]`, 'output.backoff_initial=100ms', 'output.backoff_max=2s', 'logging.elasticsearch.enabled=false'], async () => undefined);
      assert.ok(proxy.resets > 0 && proxy.delayed > 0, `resets ${proxy.resets}, delays ${proxy.delayed}`);
      console.log(`# chaos: proxy reset ${proxy.resets} connections and delayed ${proxy.delayed} chunks`);
    } finally {
      await proxy.close();
    }
  });

  it('Elasticsearch answering 429 (one write thread, write queue of one)', async () => {
    const tiny = new Client({ node: engines().tinyUrl });
    try {
      const m = await drills.run('tiny', 30, [`elasticsearch.hosts=[${engines().tinyUrl}]`, 'output.concurrency=6', 'output.bulk_max_docs=300', 'output.backoff_initial=100ms', 'output.backoff_max=2s'], async () => undefined, tiny);
      assert.ok((m['dockward_documents_retried_total{reason=429}'] ?? 0) > 0, `429s were answered and retried: ${JSON.stringify(m)}`);
    } finally {
      await tiny.close();
    }
  });

  it('dockward killed with SIGKILL 10 times at random moments', async () => {
    await drills.run('kill10', 40, [], killTenTimes);
  });

  it('dockerd restarted while containers keep running (live-restore)', async () => {
    await drills.run('dockerd', 40, [], async (d) => {
      await waitForCount(es, d.index, 10_000, 60_000, undefined, () => d.dockward().alive());
      script('dockerd.sh', 'restart');
      const still = await Promise.all(d.ids.map((id) => retryEngine(() => docker.getContainer(id).inspect())));
      assert.ok(still.every((c) => c.State.Running), 'containers survived the engine restart');
    });
  });
});
