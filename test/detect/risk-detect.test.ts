import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { execIn, removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';
import { Receiver } from '../notify/receiver';

type Finding = {
  rule: { id: string }; message: string; event: { kind: string }; container: { id: string };
  threat: { technique: { id: string[] } };
  dockward: { risk?: { score: number; findings: number; contributors: Array<{ rule_id: string; count: number; class: string; first_seen: string; last_seen: string }> } };
};

/**
 * A CI-like session of building blocks through `docker exec` — discovery, archiving, a credential
 * read — on the real engine: each is a signal (logs-dockward.signal-<ns>), none pages, and the
 * container's risk score crossing its threshold is the one alert, naming them.
 */
describe('building blocks add up to one risk alert (real engine, Elasticsearch, a webhook on 127.0.0.1)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('risk');
  const alerts = `logs-dockward.alert-${ns}`;
  const signals = `logs-dockward.signal-${ns}`;
  const pager = new Receiver();
  let dw: DockwardProcess;
  // Archiving has no built-in rule: a site rule of class signal, as an operator would add one.
  const siteRules = mkdtempSync(join(tmpdir(), 'dw-risk-rules-'));
  writeFileSync(join(siteRules, 'archive.yml'), [
    'rules:',
    '  - { id: site-archive, name: Archive created, description: "tar or zip packing files (collection, T1560.001)", kind: process, severity: medium, risk_score: 47, class: signal,',
    '      tactics: [TA0009], techniques: [T1560.001], condition: { all: [ { field: event.type, equals: start }, { field: process.name, in: [tar, zip] }, { field: process.args, regex: "^-?c" } ] },',
    '      examples: { match: [{ event: { type: [start] }, process: { name: tar, args: [tar, czf, /tmp/a.tgz, /etc] } }], no_match: [{ event: { type: [start] }, process: { name: tar, args: [tar, xzf, a.tgz] } }] } }',
    '',
  ].join('\n'));

  async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
    const end = Date.now() + timeoutMs;
    let failed: unknown;
    for (;;) {
      // A stream created a moment ago may have no started shard yet (no_shard_available): not yet, not a failure.
      const v = await fn().catch((err: unknown) => void (failed = err));
      if (v !== undefined) return v;
      dw.alive();
      if (Date.now() > end) throw new Error(`timed out waiting for ${what} (last search error: ${String(failed)})\n${dw.log.slice(-2000)}`);
      await new Promise((r) => setTimeout(r, 500));
    }
  }
  const of = (index: string, id: string) => fetchAll<Finding>(es, index, { term: { 'container.id': id } });
  const ids = (xs: Finding[]) => [...new Set(xs.map((x) => x.rule.id))].sort();

  before(async () => {
    await pager.start();
    dw = DockwardProcess.run({
      namespace: ns,
      sets: [
        `detect.rules=["${siteRules}"]`,
        'collectors.processes.schedule=* * * * * *',
        `notify.destinations.pager={type: webhook, url: "${pager.url}/page"}`,
        `notify.routes.oncall={destinations: [pager], match: {labels: {scenario: ${ns}}}}`,
      ],
    });
    await dw.waitFor(/dockward running/);
  });
  after(async () => {
    await dw?.kill();
    await removeContainers(docker, ns);
    await pager.stop();
    await es.close();
  });

  it('discovery, archiving and a credential read: four signals, no page, then exactly one risk alert that names them', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-ci`, image: LAB, labels: { scenario: ns }, cmd: ['sh', '-c', 'mkdir -p /root/.aws && printf "[default]\\n" > /root/.aws/credentials; sleep 300'] });
    const exec = (cmd: string[]) => execIn(docker, id, cmd);
    await exec(['uname', '-a']);
    await exec(['cat', '/etc/passwd']);
    await exec(['tar', 'czf', '/tmp/etc.tgz', '/etc/hostname', '/etc/passwd']);
    const three = ['dockward-exec-recon', 'dockward-exec-system-discovery', 'site-archive'];
    const early = await until('the first three signals', async () => {
      const s = await of(signals, id);
      return three.every((r) => s.some((x) => x.rule.id === r)) ? s : undefined;
    });
    assert.ok(early.every((x) => x.event.kind === 'signal'));
    // 21 + 21 + 47 = 89 < 100: no risk alert, no alert of any kind, nobody paged.
    assert.deepEqual(ids(await of(alerts, id)), []);
    assert.deepEqual(pager.got.map((g) => g.path), [], 'signals page nobody');

    await exec(['cat', '/root/.aws/credentials']);
    const risk = await until('the risk alert', async () => {
      const a = await of(alerts, id);
      return a.some((x) => x.rule.id === 'dockward-risk-threshold') ? a : undefined;
    });
    // Discovery rules of the pack see the same commands as signals too (uname: system info, /etc/passwd: accounts, tar of /etc: sensitive archive).
    const want = [...three, 'dockward-credential-file-read', 'dockward-discovery-system-info', 'dockward-discovery-accounts', 'dockward-archive-sensitive'].sort();
    // A wait, not one read: the signal stream is searched as documents arrive (a read right after the risk alert missed some once).
    const s = await until('every signal of the four commands', async () => {
      const got = await of(signals, id);
      return want.every((w) => ids(got).includes(w)) ? got : undefined;
    });
    assert.deepEqual(ids(s), want);
    assert.equal(risk.length, 1, `one alert document: ${risk.map((x) => x.rule.id)}`);
    const r = risk[0];
    // Each command counts once, at its strongest rule: four contributors, each one of the signals.
    const counted = r.dockward.risk!.contributors.map((c) => c.rule_id);
    assert.equal(counted.length, 4, counted.join(', '));
    assert.ok(counted.every((c) => want.includes(c)), counted.join(', '));
    assert.ok(r.dockward.risk!.score >= 100 && r.dockward.risk!.findings >= 4, JSON.stringify(r.dockward.risk));
    for (const c of r.dockward.risk!.contributors) {
      assert.equal(c.class, 'signal');
      assert.ok(c.count >= 1 && c.first_seen <= c.last_seen);
      assert.ok(r.message.includes(c.rule_id), `${c.rule_id} named in: ${r.message}`);
    }
    const union = new Set(s.filter((x) => counted.includes(x.rule.id)).flatMap((x) => x.threat.technique.id));
    assert.deepEqual(new Set(r.threat.technique.id), union);

    // The one page is the risk alert's.
    const got = await pager.waitFor((g) => g.length >= 1, 15_000, 'the risk page');
    assert.deepEqual(got.map((g) => (g.json.rule as { id: string }).id), ['dockward-risk-threshold']);
    const m = await dw.metrics();
    // dockward watches every container of the engine (other tests' too): the counter is at least ours.
    assert.ok(m.dockward_risk_alerts_total >= 1);
    assert.ok(m['dockward_signals_total{rule=dockward-credential-file-read}'] >= 1);
  });
});
