import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { AlertDoc } from '../support/suites/evidence';
import { isHarness } from '../support/suites/evidence';
import type { Outcome } from '../support/suites/runner';
import { loadAttacks, loadBenign, TACTICS } from '../support/suites/scenarios';
import { alertTechniques, scoreAttacks, scoreBenign, techniqueMatches } from '../support/suites/score';

/** The suites' data files and the scoring, without an engine. */
describe('evaluation suites: data files', () => {
  it('the attack suite has at least 60 scenarios over every tactic, each with a reference', () => {
    const a = loadAttacks();
    assert.ok(a.length >= 60, `${a.length} attack scenarios`);
    for (const t of TACTICS) assert.ok(a.some((s) => s.tactic === t), `a scenario for ${t}`);
  });

  it('the benign suite has at least 25 containers, each with a ready line that compiles', () => {
    const b = loadBenign();
    assert.ok(b.length >= 25, `${b.length} benign scenarios`);
    for (const s of b) assert.doesNotThrow(() => new RegExp(s.ready), s.id);
  });
});

const alert = (id: string, techniques: string[], subs: string[] = [], extra: Partial<AlertDoc> = {}): AlertDoc => ({
  _id: id,
  '@timestamp': '2026-01-01T00:00:10Z',
  rule: { id: `rule-${id}` },
  threat: { technique: { id: techniques, subtechnique: subs.length ? { id: subs } : undefined } },
  dockward: { alert: { group_id: `g-${id}` } },
  ...extra,
});
const outcome = (id: string, alerts: AlertDoc[], signals: AlertDoc[] = []): Outcome => ({ id, containerId: `c-${id}`, complete: true, startedAt: Date.parse('2026-01-01T00:00:00Z'), alerts, signals, harnessAlerts: 0 });

describe('evaluation suites: scoring', () => {
  it('a technique matches itself, its parent and its sub-techniques, not its siblings', () => {
    assert.ok(techniqueMatches('T1059.004', 'T1059'));
    assert.ok(techniqueMatches('T1059', 'T1059.004'));
    assert.ok(techniqueMatches('T1496', 'T1496'));
    assert.ok(!techniqueMatches('T1059.004', 'T1059.006'));
    assert.ok(!techniqueMatches('T1059', 'T1059000'));
  });

  it('an alert\'s parent technique that stands only for its sub-technique is not a technique of its own', () => {
    assert.deepEqual(alertTechniques(alert('a', ['T1059'], ['T1059.004'])), ['T1059.004']);
    assert.deepEqual(alertTechniques(alert('b', ['T1059', 'T1105'], ['T1059.004'])).sort(), ['T1059.004', 'T1105']);
  });

  it('per-tactic recall, any and right technique, and the misses', () => {
    const scenarios = loadAttacks().filter((s) => ['exec-awk-system-shell', 'exec-perl-reverse-shell', 'persist-useradd-uid0'].includes(s.id));
    const r = scoreAttacks(scenarios, [
      outcome('exec-awk-system-shell', [alert('x', ['T1059'], ['T1059.006'])]),
      outcome('exec-perl-reverse-shell', [alert('y', ['T1059'], ['T1059.004'])]),
      outcome('persist-useradd-uid0', [], [alert('s', ['T1136'], ['T1136.001'])]),
    ]);
    const exec = r.tactics.find((t) => t.tactic === 'execution')!;
    assert.deepEqual({ n: exec.n, any: exec.any, right: exec.right }, { n: 2, any: 2, right: 1 }, 'a T1059.006 alert is not right for a T1059.004 scenario; a T1059.004 one is for T1059');
    assert.deepEqual({ n: r.total.n, any: r.total.any, right: r.total.right, signalOnly: r.total.signalOnly }, { n: 3, any: 2, right: 1, signalOnly: 1 });
    // The useradd scenario's T1136.001 came as a signal only: seen with its technique, not alerted.
    assert.deepEqual(r.scenarios.filter((x) => x.seen).map((x) => x.id).sort(), ['exec-perl-reverse-shell', 'persist-useradd-uid0']);
    assert.equal(r.total.seen, 2);
  });

  it('benign: a first alert and its summary are one group; rules and containers add up', () => {
    const summary = alert('p', ['T1082'], [], { dockward: { alert: { group_id: 'g-p', summary: true } } });
    const r = scoreBenign([outcome('one', [alert('p', ['T1082']), summary, alert('q', ['T1057'])]), outcome('two', []), outcome('three', [alert('p2', ['T1082'], [], { rule: { id: 'rule-p' } })])], 10);
    assert.equal(r.alerts, 3);
    assert.equal(r.perContainer, 1);
    assert.deepEqual(r.rules.map((x) => [x.rule, x.alerts, x.containers.length]), [['rule-p', 2, 2], ['rule-q', 1, 1]]);
    assert.deepEqual(r.noisy.map((n) => n.id), ['one', 'three']);
  });

  it('the runner\'s own marker steps are recognised and nothing else', () => {
    assert.ok(isHarness(alert('m', [], [], { file: { path: '/tmp/dwsuite-done' } })));
    assert.ok(isHarness(alert('n', [], [], { process: { command_line: 'touch /tmp/dwsuite-end' } })));
    assert.ok(!isHarness(alert('o', [], [], { process: { command_line: "sh -c (\nid\n) </dev/null\ntouch /tmp/dwsuite-done\nexec sleep 3600" } })));
    assert.ok(!isHarness(alert('p', [], [], { file: { path: '/tmp/.x' } })));
  });
});
