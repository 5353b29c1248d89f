import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import winston from 'winston';
import { detectConfig } from '../../src/detect/detector';
import { RuleSource } from '../../src/detect/rule-source';
import type { Rule } from '../../src/detect/rules';
import { Telemetry } from '../../src/telemetry/telemetry';

const rule = (id: string, needle: string) => [
  'rules:',
  `  - id: ${id}`,
  '    name: test',
  '    description: test',
  '    kind: log',
  '    severity: low',
  '    risk_score: 21',
  '    tactics: [TA0007]',
  '    techniques: [T1046]',
  `    condition: { field: message, contains: ${needle} }`,
  `    examples: { match: [{ message: ${needle} }], no_match: [{ message: nothing }] }`,
  '',
].join('\n');

describe('rule source', () => {
  it('reloads on change; a file broken by an edit keeps its previous rules, logged with its line', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rules-'));
    writeFileSync(join(dir, 'a.yml'), rule('custom-a', 'alpha'));
    const messages: string[] = [];
    const logger = winston.createLogger({ transports: [new winston.transports.Stream({ stream: new Writable({ write: (c: Buffer, _e: string, cb: () => void) => (messages.push(String(c)), cb()) }) })] });
    const applied: Rule[][] = [];
    const src = new RuleSource(detectConfig.parse({ builtin: false, rules: [dir], reload_interval: '50ms' }), new Telemetry(logger), (r) => applied.push(r));
    assert.deepEqual(src.load().map((r) => r.id), ['custom-a']);
    src.start();
    try {
      const wait = async (what: () => boolean) => {
        for (let i = 0; i < 100 && !what(); i++) await new Promise((r) => setTimeout(r, 20));
        assert.ok(what());
      };
      writeFileSync(join(dir, 'b.yml'), rule('custom-b', 'beta'));
      await wait(() => applied.length === 1);
      assert.deepEqual(applied[0].map((r) => r.id), ['custom-a', 'custom-b']);

      // b.yml broken, a.yml changed in the same reload: a's change applies, b keeps what it had.
      writeFileSync(join(dir, 'b.yml'), rule('custom-b', 'gamma').replace('severity: low', 'severity: urgent'));
      writeFileSync(join(dir, 'a.yml'), rule('custom-a', 'delta'));
      await wait(() => applied.length >= 2 && applied[applied.length - 1][0].matches({ message: 'delta' }));
      const [a, b] = applied[applied.length - 1];
      assert.deepEqual([a.id, b.id], ['custom-a', 'custom-b']);
      assert.ok(a.matches({ message: 'delta' }) && !a.matches({ message: 'alpha' }), 'the good edit is in force');
      assert.ok(b.matches({ message: 'beta' }) && !b.matches({ message: 'gamma' }), 'the broken file keeps its previous rule');
      assert.ok(messages.some((m) => m.includes(`${join(dir, 'b.yml')}:6 rule custom-b: severity`) && m.includes('stay in force')), messages.join('\n'));
    } finally {
      src.stop();
    }
  });
});
