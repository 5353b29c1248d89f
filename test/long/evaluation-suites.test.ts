import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
// In the long drills (npm run test:long), not npm test: on the merged main it failed here twice
// (a benign cron container's end marker never arrived within its limit; `uname` of the discovery
// scenario lost to the /proc exit race with audit off by default). To be fixed before #19 closes.
import { engines } from '../support/engines';
import { fetchAll } from '../support/elasticsearch';
import { isHarness, streams } from '../support/suites/evidence';
import { SuiteRunner, type Outcome } from '../support/suites/runner';
import { loadAttacks, loadBenign } from '../support/suites/scenarios';
import { scoreAttacks, scoreBenign } from '../support/suites/score';

/**
 * The evaluation runner's bookkeeping on a small fixed subset of the suites (the full suites and
 * their recall are bench/detection-suites.ts's): real dockerd, real Elasticsearch, dockward with
 * its default configuration. What is asserted is that the runner saw what happened and that its
 * figures add up — not how well dockward detects.
 */
const ATTACKS = ['exec-find-exec-shell', 'persist-passwd-append', 'disc-system-information', 'disc-network-configuration', 'coll-stage-data', 'impact-defacement', 'exec-docker-exec-recon-shell', 'cred-read-shadow'];
const BENIGN = ['httpd-foreground', 'busybox-crond-logrotate', 'nginx-templates-envsubst', 'github-actions-container-job', 'haproxy-config-check'];
const MINUTES = 0.5;

describe('evaluation suites: the runner on 8 attack and 5 benign scenarios', () => {
  engines();
  const attacks = loadAttacks().filter((s) => ATTACKS.includes(s.id));
  const benign = loadBenign().filter((s) => BENIGN.includes(s.id));
  const runner = new SuiteRunner({ batch: 8, benignMinutes: MINUTES });
  let ao: Outcome[] = [];
  let bo: Outcome[] = [];

  before(async () => {
    assert.equal(attacks.length + benign.length, ATTACKS.length + BENIGN.length, 'every chosen scenario is in the data files');
    await runner.start(benign);
    ao = await runner.runAttacks(attacks);
    bo = await runner.runBenign(benign);
    await runner.collect(ao);
    await runner.collect(bo, MINUTES);
  });
  after(() => runner.close());

  it('every scenario ran in its own container and its watermark arrived', () => {
    assert.deepEqual(ao.map((o) => o.id).sort(), [...ATTACKS].sort());
    assert.deepEqual(bo.map((o) => o.id).sort(), [...BENIGN].sort());
    assert.equal(new Set([...ao, ...bo].map((o) => o.containerId)).size, ao.length + bo.length, 'one container per scenario');
    assert.deepEqual([...ao, ...bo].filter((o) => !o.complete).map((o) => o.id), [], 'no scenario timed out');
  });

  it('what a scenario ran is in Elasticsearch as process documents of its container', async () => {
    const procs = streams(runner.ns).logs.replace('container', 'process');
    const sysinfo = ao.find((o) => o.id === 'disc-system-information')!;
    const names = (await fetchAll<{ process: { name: string } }>(runner.es, procs, { term: { 'container.id': sysinfo.containerId } })).map((d) => d.process.name);
    for (const n of ['uname', 'cat', 'lscpu', 'df', 'hostname']) assert.ok(names.includes(n), `${n} started in disc-system-information (seen: ${[...new Set(names)].join(' ')})`);
    const viaExec = ao.find((o) => o.id === 'exec-docker-exec-recon-shell')!;
    const execs = await fetchAll<{ event: { provider?: string }; process: { name: string } }>(runner.es, procs, { term: { 'container.id': viaExec.containerId } });
    assert.ok(execs.some((d) => d.process.name === 'uname'), 'the docker exec scenario\'s commands are seen too');
  });

  it('each outcome holds exactly the alerts Elasticsearch has on its container, harness alerts apart', async () => {
    const all = await fetchAll<Parameters<typeof isHarness>[0]>(runner.es, streams(runner.ns).alerts, { terms: { 'container.id': ao.map((o) => o.containerId) } }).catch(() => []);
    for (const o of ao) {
      const mine = all.filter((a) => a.container?.id === o.containerId);
      assert.equal(o.alerts.length + o.harnessAlerts, mine.length, `${o.id}: alerts + harness alerts = documents on its container`);
      assert.deepEqual(o.alerts.map((a) => a._id).sort(), mine.filter((a) => !isHarness(a)).map((a) => a._id).sort());
    }
  });

  it('the attack figures add up', () => {
    const r = scoreAttacks(attacks, ao);
    assert.equal(r.tactics.reduce((a, t) => a + t.n, 0), r.total.n);
    assert.equal(r.tactics.reduce((a, t) => a + t.any, 0), r.total.any);
    assert.equal(r.tactics.reduce((a, t) => a + t.right, 0), r.total.right);
    assert.equal(r.total.n, ATTACKS.length);
    assert.equal(r.tactics.reduce((a, t) => a + t.seen, 0), r.total.seen);
    assert.ok(r.total.right <= r.total.any);
    assert.ok(r.total.right <= r.total.seen);
    for (const s of r.scenarios) {
      const o = ao.find((x) => x.id === s.id)!;
      assert.equal(s.any, o.alerts.length > 0, `${s.id}: detected-any is "an alert on its container"`);
      if (s.right) assert.ok(s.any);
    }
  });

  it('the benign figures add up: alerts per container, per rule, per noisy container', () => {
    const r = scoreBenign(bo, MINUTES);
    assert.equal(r.containers, BENIGN.length);
    assert.equal(r.rules.reduce((a, x) => a + x.alerts, 0), r.alerts);
    assert.equal(r.noisy.reduce((a, x) => a + x.alerts, 0), r.alerts);
    assert.equal(r.perContainer, r.alerts / r.containers);
    for (const o of bo) for (const a of o.alerts) assert.ok(Date.parse(a['@timestamp']) <= o.startedAt + MINUTES * 60_000, `${o.id}: only alerts within the window are counted`);
  });
});
