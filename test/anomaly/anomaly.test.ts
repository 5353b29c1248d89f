import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { anomalyConfig } from '../../src/anomaly/detector';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';

type Anomaly = {
  '@timestamp': string;
  message: string;
  container: { id: string };
  dockward: { anomaly: { score: number; warm: boolean; top: string; samples: number; baseline_from: string; signals: Record<string, { score: number }> } };
};
type Alert = { '@timestamp': string; message: string; rule: { id: string }; container: { id: string } };

const WARMUP = 10; // intervals of 2 s
const CALM_S = 50; // every workload container is calm this long before its behaviour changes
const THRESHOLD = anomalyConfig.parse({}).threshold; // the default, as an operator runs it

describe('anomaly scores on the real engines', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('anom');
  const scores = `metrics-dockward.anomaly-${ns}`;
  const alerts = `logs-dockward.alert-${ns}`;
  const sets = [
    'collectors.stats.schedule=*/2 * * * * *',
    'collectors.stats.stagger=100ms',
    'collectors.processes.schedule=* * * * * *',
    'collectors.processes.stagger=100ms',
    `anomaly.model.warmup=${WARMUP}`,
    'anomaly.persist_schedule=*/5 * * * * *',
    'detect.window=30s',
  ];
  let dw: DockwardProcess;
  const ids: Record<string, string> = {};
  const started: Record<string, number> = {};

  const docsOf = async (id: string): Promise<Anomaly[]> =>
    (await fetchAll<Anomaly>(es, scores, { term: { 'container.id': id } })).sort((a, b) => a['@timestamp'].localeCompare(b['@timestamp']));

  async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      dw.alive();
      const v = await fn();
      if (v !== undefined) return v;
      if (Date.now() > end) throw new Error(`timed out: ${what}\n${dw.log.slice(-1500)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }

  async function start(name: string, script: string): Promise<void> {
    const { id } = await runContainer(docker, { name: `${ns}-${name}`, cmd: ['sh', '-c', script] });
    ids[name] = id;
    const info = await docker.getContainer(id).inspect();
    started[name] = Date.parse(info.State.StartedAt);
  }

  before(async () => {
    dw = DockwardProcess.run({ namespace: ns, sets });
    await dw.waitFor(/dockward running/);
    await Promise.all([
      // a miner: quiet, then pins one CPU
      start('miner', `sleep ${CALM_S}; while :; do :; done`),
      // steady benign load from the start: a little CPU, a process and a log line every second
      start('benign', 'while :; do i=0; while [ $i -lt 3000 ]; do i=$((i+1)); done; echo tick $i; sleep 1; done'),
      // quiet, then a burst of process starts (each lives ~1 s so `top` polling sees it); pids stay 2
      start('burst', `sleep ${CALM_S}; for i in $(seq 1 60); do sleep 1; done; sleep 3600`),
      // quiet throughout: its baseline must survive a restart
      start('calm', 'sleep 3600'),
    ]);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('a container that starts burning CPU after a calm warm-up is flagged and alerted within 60 s', async () => {
    const burnAt = started.miner + CALM_S * 1000;
    const flagged = await until(
      'miner flagged',
      async () => (await docsOf(ids.miner)).find((d) => Date.parse(d['@timestamp']) >= burnAt && d.dockward.anomaly.warm && d.dockward.anomaly.score >= THRESHOLD),
      CALM_S * 1000 + 90_000,
    );
    const calm = (await docsOf(ids.miner)).filter((d) => Date.parse(d['@timestamp']) < burnAt - 2000);
    assert.ok(calm.some((d) => d.dockward.anomaly.warm), 'the model was warm before the miner started');
    assert.ok(calm.every((d) => !d.dockward.anomaly.warm || d.dockward.anomaly.score < THRESHOLD), 'no high score while calm');
    assert.equal(flagged.dockward.anomaly.top, 'cpu');
    assert.match(flagged.message, /CPU %/);
    const alert = await until(
      'miner alert',
      async () => (await fetchAll<Alert>(es, alerts, { term: { 'container.id': ids.miner } })).find((a) => a.rule.id === 'dockward-anomaly-score'),
      60_000,
    );
    const lag = Date.parse(alert['@timestamp']) - burnAt;
    assert.ok(lag <= 60_000, `alert ${lag} ms after the miner started`);
    assert.match(alert.message, /CPU %/);
  });

  it('steady benign load over the same time raises nothing', async () => {
    const docs = await docsOf(ids.benign);
    const warm = docs.filter((d) => d.dockward.anomaly.warm);
    // the miner's test ran at least CALM_S + its detection: the same span of benign load, warm
    assert.ok(warm.length >= 15, `benign container scored warm ${warm.length} times`);
    assert.ok(warm.some((d) => (d.dockward.anomaly.signals.process_starts?.score ?? -1) >= 0), 'process starts were part of the score');
    const raised = await fetchAll<Alert>(es, alerts, { term: { 'container.id': ids.benign } });
    assert.deepEqual(raised.map((a) => a.message), []);
  });

  it('a burst of process starts in a quiet container scores high and names the process signal', async () => {
    const burstAt = started.burst + CALM_S * 1000;
    const hit = await until(
      'burst flagged',
      async () => (await docsOf(ids.burst)).find((d) => Date.parse(d['@timestamp']) >= burstAt && d.dockward.anomaly.warm && d.dockward.anomaly.score >= THRESHOLD),
      90_000,
    );
    assert.equal(hit.dockward.anomaly.top, 'process_starts', hit.message);
    assert.match(hit.message, /process starts per minute/);
  });

  it('a restart keeps the learned baselines, and a new container of a known image starts from its image', async () => {
    const before = (await docsOf(ids.calm)).filter((d) => d.dockward.anomaly.warm);
    assert.ok(before.length > 0);
    const samplesBefore = before[before.length - 1].dockward.anomaly.samples;
    assert.equal(await dw.kill('SIGTERM'), 0);
    const stopped = new Date().toISOString();
    dw = DockwardProcess.run({ namespace: ns, stateDir: dw.stateDir, sets });
    await dw.waitFor(/anomaly baselines restored: [1-9]\d* containers/);
    const first = await until(
      'calm scored after the restart',
      async () => (await docsOf(ids.calm)).find((d) => d['@timestamp'] > stopped),
      30_000,
    );
    assert.equal(first.dockward.anomaly.baseline_from, 'container');
    assert.equal(first.dockward.anomaly.warm, true);
    assert.ok(first.dockward.anomaly.samples > samplesBefore, `${first.dockward.anomaly.samples} samples after, ${samplesBefore} before`);
    await start('recreated', 'sleep 3600');
    const fresh = await until('recreated scored', async () => (await docsOf(ids.recreated))[0], 30_000);
    assert.equal(fresh.dockward.anomaly.baseline_from, 'image');
    assert.ok(fresh.dockward.anomaly.samples > 1, `starts from the image's ${fresh.dockward.anomaly.samples} samples`);
    // its start-up (the entrypoint's processes) is settled through, not alerted; then it is warm at once
    assert.equal(fresh.dockward.anomaly.warm, false);
    const settle = anomalyConfig.parse({}).settle;
    const warm = await until('recreated warm', async () => (await docsOf(ids.recreated)).find((d) => d.dockward.anomaly.warm), 30_000);
    assert.ok(warm.dockward.anomaly.samples - fresh.dockward.anomaly.samples <= settle, `warm after ${warm.dockward.anomaly.samples - fresh.dockward.anomaly.samples} intervals`);
    await new Promise((r) => setTimeout(r, 5000));
    const raised = await fetchAll<Alert>(es, alerts, { term: { 'container.id': ids.recreated } });
    assert.deepEqual(raised.map((a) => a.message), [], 'a re-created container of a calm image raises nothing');
  });
});
