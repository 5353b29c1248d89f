import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { TECHNIQUES } from '../../src/detect/attack';
import { COVERAGE_END, COVERAGE_START, coverageTable } from '../../src/detect/coverage-table';
import { BUILTIN_RULES, loadRules } from '../../src/detect/rules';

function docsRules(): string {
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) if (existsSync(join(dir, 'docs', 'rules.md'))) return readFileSync(join(dir, 'docs', 'rules.md'), 'utf8');
  throw new Error('docs/rules.md not found');
}

describe('ATT&CK coverage table', () => {
  const { rules } = loadRules([BUILTIN_RULES]);

  it('docs/rules.md holds the current table of the built-in pack (`dockward rules coverage` writes it)', () => {
    const doc = docsRules();
    const at = doc.indexOf(COVERAGE_START);
    const end = doc.indexOf(COVERAGE_END);
    assert.ok(at >= 0 && end > at, 'the table markers are in docs/rules.md');
    assert.equal(doc.slice(at, end + COVERAGE_END.length), coverageTable(rules));
  });

  it('lists every technique of every rule once, named, with alerts and signals apart', () => {
    const table = coverageTable(rules);
    const rows = table.split('\n').filter((l) => /^\| T\d{4}/.test(l));
    const techniques = new Set(rules.flatMap((r) => r.techniques));
    assert.equal(rows.length, techniques.size);
    for (const row of rows) {
      const [, id, name, alerts, signals] = row.split('|').map((c) => c.trim());
      assert.equal(name, TECHNIQUES[id], id);
      for (const rid of [...alerts.matchAll(/`([^`]+)`/g)].map((m) => m[1])) assert.equal(rules.find((r) => r.id === rid)?.class, 'alert', `${id} ${rid}`);
      for (const rid of [...signals.matchAll(/`([^`]+)`/g)].map((m) => m[1])) assert.equal(rules.find((r) => r.id === rid)?.class, 'signal', `${id} ${rid}`);
    }
    // The techniques of issue #19's coverage list each have a rule.
    for (const t of ['T1059.004', 'T1059.006', 'T1059.007', 'T1106', 'T1546.004', 'T1053.003', 'T1543.002', 'T1574.006', 'T1098.004', 'T1136', 'T1548.001', 'T1611',
      'T1070.002', 'T1070.003', 'T1070.004', 'T1070.006', 'T1222.002', 'T1562.001', 'T1562.006', 'T1562.012', 'T1027', 'T1140', 'T1003.008', 'T1552.001', 'T1552.003',
      'T1552.004', 'T1082', 'T1087.001', 'T1018', 'T1083', 'T1049', 'T1057', 'T1069', 'T1016', 'T1518.001', 'T1613', 'T1560.001', 'T1005', 'T1074.001', 'T1048', 'T1041',
      'T1567', 'T1105', 'T1071', 'T1090', 'T1572', 'T1485', 'T1486', 'T1496', 'T1489', 'T1490', 'T1529']) assert.ok(techniques.has(t), t);
  });
});
