import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_MATCH, type Condition, type Doc } from '../../src/detect/condition';
import { regexLiterals, requirement, RuleIndex, type Requirement } from '../../src/detect/prefilter';
import { BUILTIN_RULES, loadRules } from '../../src/detect/rules';

const ctx = { lists: { pools: ['supportxmr', 'nanopool.org'], short: ['sh', 'ash'] }, macros: { scan: { field: 'message', contains: 'Nmap scan' } as Condition } };

describe('literal prefilter', () => {
  it('takes from each regex alternative its longest mandatory literal run, or gives up', () => {
    assert.deepEqual(regexLiterals('^Discovered open port \\d+/(tcp|udp) on '), ['discovered open port ']);
    assert.deepEqual(regexLiterals('mkfifo|mknod .* p'), ['mkfifo', 'mknod ']);
    assert.deepEqual(regexLiterals('/dev/(tcp|udp)/[^/ ]+/\\d+'), ['/dev/']);
    assert.deepEqual(regexLiterals('socket\\.socket.*(dup2|pty)'), ['socket.socket']);
    // Optional characters and too-short runs: no requirement rather than a wrong one.
    assert.equal(regexLiterals('\\bnc(at)?\\b'), undefined);
    assert.equal(regexLiterals('abc?d'), undefined);
    assert.equal(regexLiterals('xmrig|a'), undefined);
    assert.deepEqual(regexLiterals('colou?r scheme'), ['r scheme']);
  });

  it('derives one requirement per rule from all/any/macro/lists, never from not or short literals', () => {
    assert.deepEqual(requirement({ all: [{ field: 'event.type', equals: 'start' }, { field: 'message', contains: '@pools', nocase: true }] }, ctx), [
      { field: 'message', literals: ['supportxmr', 'nanopool.org'] },
    ]);
    assert.deepEqual(requirement({ any: [{ macro: 'scan' }, { field: 'process.command_line', regex: 'stratum\\+tcp' }] }, ctx), [
      { field: 'message', literals: ['nmap scan'] },
      { field: 'process.command_line', literals: ['stratum+tcp'] },
    ]);
    assert.equal(requirement({ any: [{ macro: 'scan' }, { field: 'process.name', in: ['nc'] }] }, ctx), undefined);
    assert.equal(requirement({ not: { field: 'message', contains: 'health' } }, ctx), undefined);
    assert.equal(requirement({ field: 'process.name', equals: '@short' }, ctx), undefined);
  });

  it('offers a document only the rules whose literals it contains, plus the rules without a requirement', () => {
    const rule = (id: string, prefilter?: Requirement) => ({ id, prefilter });
    const a = rule('a', [{ field: 'message', literals: ['nmap scan'] }]);
    const b = rule('b', [{ field: 'message', literals: ['stratum+'] }, { field: 'process.command_line', literals: ['stratum+'] }]);
    const c = rule('c');
    const index = new RuleIndex([a, b, c]);
    assert.deepEqual(index.candidates({ message: 'GET /index.html 200' }), [c]);
    assert.deepEqual(index.candidates({ message: 'NMAP SCAN report for 127.0.0.1' }).map((r) => r.id), ['c', 'a']);
    assert.deepEqual(index.candidates({ message: 'pool stratum+tcp://x', process: { command_line: 'x -o stratum+tcp://y' } }).map((r) => r.id), ['c', 'b']);
    assert.deepEqual(index.candidates({ process: { command_line: ['a', 'x stratum+ssl'] } }).map((r) => r.id), ['c', 'b']);
  });

  it('never rejects what a rule matches once long fields are cut: every built-in example, padded before or after', () => {
    const rules = loadRules([BUILTIN_RULES]).rules.filter((r) => r.prefilter);
    const pad = 'p '.repeat(MAX_MATCH);
    /** The example with every string padded on one side (arrays: one more element of padding). */
    const padded = (v: unknown, before: boolean): unknown => {
      if (typeof v === 'string') return before ? pad + v : v + pad;
      if (Array.isArray(v)) return before ? [pad, ...v.map((x) => padded(x, before))] : [...v.map((x) => padded(x, before)), pad];
      if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, k === 'type' || k === 'dataset' ? x : padded(x, before)]));
      return v;
    };
    let matched = 0;
    for (const r of rules) {
      for (const ex of r.examples.match) {
        for (const before of [true, false]) {
          const doc = padded(ex, before) as Doc;
          if (!r.matches(doc)) continue;
          matched++;
          assert.ok(new RuleIndex([r]).candidates(doc).includes(r), `${r.id}: a padded example matches but the prefilter skips it`);
        }
      }
    }
    assert.ok(matched > 100, `${matched} padded examples still match`);
  });
});
