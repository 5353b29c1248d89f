import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Server } from 'node:net';
import { engines, newNamespace } from '../support/engines';
import { removeContainers } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { createLab, DAEMON_EXPECTED, DAEMON_JSON, exposeEngine, HARDENED_IMAGE, type LabContainer, type Verdicts } from './lab';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('dockward scan (real dockerd, no Elasticsearch)', () => {
  const { docker, dockerHost } = engines();
  const socketPath = dockerHost.slice('unix://'.length);
  const ns = newNamespace('scan');
  const daemonJson = join(mkdtempSync(join(tmpdir(), 'posture-')), 'daemon.json');
  let lab: LabContainer[];
  const scan = async (args: string[], sets: string[] = []) => {
    const p = DockwardProcess.run({
      namespace: ns,
      // Elasticsearch is pointed at a closed port: scan must not need it.
      command: ['scan', ...(args.includes('--name') ? [] : ['--name', `${ns}-*`]), ...args],
      sets: ['elasticsearch.hosts=[http://127.0.0.1:1]', `collectors.posture.daemon_config=${daemonJson}`, 'collectors.posture.tcp_probe=[]', ...sets],
    });
    return { code: await p.wait(), out: p.log };
  };
  const verdicts = (report: Json, type: string, name: string): Verdicts =>
    Object.fromEntries((report.findings as Json[]).filter((f) => f.resource.type === type && f.resource.name === name).map((f) => [f.id, f.evaluation]));

  before(async () => {
    writeFileSync(daemonJson, JSON.stringify(DAEMON_JSON));
    lab = await createLab(docker, ns, socketPath);
  });
  after(() => removeContainers(docker, ns));

  it('--format json: every check of every container, image and the daemon gives the expected verdict', async () => {
    const { code, out } = await scan(['--format', 'json']);
    assert.equal(code, 0, out);
    const report = JSON.parse(out) as Json;
    assert.equal(report.benchmark.version, '1.6.0');
    for (const c of lab) assert.deepEqual(verdicts(report, 'container', c.name), c.expected, c.name);
    assert.deepEqual(verdicts(report, 'daemon', report.engine.name), DAEMON_EXPECTED);
    assert.deepEqual(verdicts(report, 'image', HARDENED_IMAGE), { '4.1': 'passed', '4.6': 'passed' });
    assert.deepEqual(verdicts(report, 'image', 'dockward/busybox:1'), { '4.1': 'failed', '4.6': 'failed' });
    const names = (report.resources as Json[]).filter((r) => r.type === 'container').map((r) => r.name).sort();
    assert.deepEqual(names, lab.map((c) => c.name).sort(), '--name keeps to the test containers; created ones are included');

    const hardened = (report.resources as Json[]).find((r) => r.name === `${ns}-hardened`)!;
    const n = Object.values(lab[0].expected);
    assert.deepEqual(hardened.score, { passed: n.filter((v) => v === 'passed').length, failed: 0, not_applicable: n.filter((v) => v === 'not_applicable').length, total: n.length, percent: 100 });
    const sock = (report.findings as Json[]).find((f) => f.resource.name === `${ns}-socket` && f.id === '5.32')!;
    assert.equal(sock.severity, 'critical');
    assert.match(sock.evidence, new RegExp(`${socketPath} on /var/run/docker.sock`));
    const caps = (report.findings as Json[]).find((f) => f.resource.name === `${ns}-sysadmin` && f.id === '5.4')!;
    assert.equal(caps.evidence, 'capabilities added: SYS_ADMIN');
    const all = report.findings.length;
    assert.equal(report.score.total, all);
    assert.equal(report.score.passed + report.score.failed + report.score.not_applicable, all);
  });

  it('--format sarif: a structurally valid SARIF 2.1.0 log whose results point at their rules', async () => {
    const { code, out } = await scan(['--format', 'sarif']);
    assert.equal(code, 0, out);
    const sarif = JSON.parse(out) as Json;
    assert.equal(sarif.version, '2.1.0');
    assert.equal(sarif.runs.length, 1);
    const run = sarif.runs[0];
    assert.equal(run.tool.driver.name, 'dockward');
    const rules = run.tool.driver.rules as Json[];
    assert.ok(rules.length >= 45, `${rules.length} rules`);
    assert.equal(new Set(rules.map((r) => r.id)).size, rules.length, 'rule ids are unique');
    for (const r of rules) {
      assert.match(r.id, /^CIS-Docker-\d+\.\d+$/);
      assert.ok(r.shortDescription.text && r.fullDescription.text && r.help.text, r.id);
      assert.ok(['error', 'warning', 'note'].includes(r.defaultConfiguration.level), r.id);
      assert.match(r.properties['security-severity'], /^\d+\.\d$/);
    }
    const results = run.results as Json[];
    assert.ok(results.length > lab.length * 30);
    for (const res of results) {
      assert.equal(rules[res.ruleIndex].id, res.ruleId, 'ruleIndex points at the rule');
      assert.ok(['error', 'warning', 'note', 'none'].includes(res.level));
      assert.ok(['fail', 'pass', 'notApplicable'].includes(res.kind));
      assert.equal(res.kind === 'fail', res.level !== 'none', 'only failures carry a level');
      assert.ok(res.message.text.length > 0);
      assert.equal(res.locations.length, 1);
      assert.match(res.locations[0].physicalLocation.artifactLocation.uri, /^docker:(container|image|daemon)\//);
      assert.ok(res.locations[0].logicalLocations[0].name);
    }
    const priv = results.find((r) => r.ruleId === 'CIS-Docker-5.5' && r.locations[0].logicalLocations[0].name === `${ns}-privileged`)!;
    assert.equal(priv.kind, 'fail');
    assert.equal(priv.level, 'error');
  });

  it('--fail-on: exit 1 when a failed check is at or above the threshold, 0 below it', async () => {
    // Only the hardened container: its one failure-free run leaves the daemon's failures, the worst of which is medium (2.9).
    const medium = await scan(['--format', 'json', '--fail-on', 'medium', '--name', `${ns}-hardened`]);
    assert.equal(medium.code, 1, medium.out);
    assert.match(medium.out, /failed check\(s\) at or above medium/);
    const high = await scan(['--format', 'json', '--fail-on', 'high', '--name', `${ns}-hardened`]);
    assert.equal(high.code, 0, high.out);
    // The socket container fails a critical check.
    const critical = await scan(['--format', 'json', '--fail-on', 'critical', '--name', `${ns}-socket`]);
    assert.equal(critical.code, 1);
    assert.match(critical.out, /1 failed check\(s\) at or above critical/);
    const none = await scan(['--format', 'json', '--fail-on', 'none']);
    assert.equal(none.code, 0);
    const bad = await scan(['--fail-on', 'severe']);
    assert.equal(bad.code, 2);
    assert.match(bad.out, /--fail-on: expected none or one of info, low, medium, high, critical, got "severe"/);
  });

  it('the engine API on TCP without TLS fails 2.7, from the probe and from how dockward connects', async () => {
    let exposed: { address: string; server: Server } | undefined;
    try {
      exposed = await exposeEngine(socketPath);
      const file = join(mkdtempSync(join(tmpdir(), 'posture-')), 'report.json');
      const { code, out } = await scan(['--format', 'json', '--fail-on', 'critical', '--name', `${ns}-hardened`, '--output', file], [`collectors.posture.tcp_probe=[${exposed.address}]`, `docker.host=tcp://${exposed.address}`]);
      assert.equal(code, 1, out);
      const report = JSON.parse(readFileSync(file, 'utf8')) as Json;
      const f = (report.findings as Json[]).find((x) => x.id === '2.7')!;
      assert.equal(f.evaluation, 'failed');
      assert.equal(f.evidence, `dockward reaches the engine at tcp://${exposed.address} without TLS; engine API answers plain HTTP on ${exposed.address}`);
    } finally {
      exposed?.server.close();
    }
  });

  it('table: one block per resource with its score, a line per check, no colour when not a terminal', async () => {
    const { code, out } = await scan(['--name', `${ns}-privileged`]);
    assert.equal(code, 0, out);
    assert.doesNotMatch(out, /\x1b\[/, 'no escape codes into a pipe');
    const expected = Object.values(lab.find((c) => c.name.endsWith('-privileged'))!.expected);
    const n = (v: string) => expected.filter((x) => x === v).length;
    const score = Math.round((n('passed') / (n('passed') + n('failed'))) * 1000) / 10;
    assert.ok(out.includes(`\ncontainer ${ns}-privileged (${lab.find((c) => c.name.endsWith('-privileged'))!.id.slice(0, 12)}): score ${score}% (${n('passed')} passed, ${n('failed')} failed, ${n('not_applicable')} n/a)\n`), out);
    assert.match(out, /^ {2}FAIL {2}critical {2}5\.5 {4}Ensure that privileged containers are not used — privileged: true$/m);
    assert.match(out, /^host score \d+(\.\d)?%: \d+ passed, \d+ failed, \d+ not applicable over 3 resources$/m);
    const colored = await scan(['--name', `${ns}-privileged`, '--color', '--failed-only']);
    assert.match(colored.out, /\x1b\[31mFAIL/, 'failed in red');
    assert.doesNotMatch(colored.out, /PASS/, '--failed-only');
  });
});
