import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { RE2JS } from 're2js';
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
    // A required group of plain alternatives is a set of literals, when it is the most selective.
    assert.deepEqual(regexLiterals('\\b(docker|podman|nerdctl)\\b.*\\b(run|create)\\b'), ['docker', 'podman', 'nerdctl']);
    assert.deepEqual(regexLiterals('(?:Curl|WGET)+\\s'), ['curl', 'wget']);
    assert.deepEqual(regexLiterals('(curl|wget)? -sL'), [' -sl'], 'an optional group is not required');
    assert.equal(regexLiterals('\\b(ba|da|z|k)?sh\\s+-i'), undefined);
    assert.equal(regexLiterals('(python[0-9.]*|perl)\\s-e'), undefined, 'a group with more than literals is not a set');
    // Classes end where RE2 ends them: a leading ] and [:name:] are inside.
    assert.deepEqual(regexLiterals('[]abc]xyz'), ['xyz']);
    assert.deepEqual(regexLiterals('[[:alpha:]abc]def'), ['def']);
    assert.equal(regexLiterals('\\Qabc|def\\E'), undefined);
  });

  it('regex literals are necessary: whenever a random pattern matches a random text, the text holds one of them', () => {
    const words = ['curl', 'wget', 'bash', 'nc', 'tmp', 'etc', '/dev/', 'shadow', '-e', 'x'];
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648);
    const pick = <T>(xs: T[]): T => xs[Math.floor(rnd() * xs.length)];
    const piece = (): string =>
      pick([
        () => pick(words).replace(/[./-]/g, (c) => `\\${c}`),
        () => `(${[pick(words), pick(words)].join('|')})`,
        () => `(?:${pick(words)}|${pick(words)})${pick(['', '?', '+', '*'])}`,
        () => pick(['\\s+', '\\s*', '.*', '\\b', '[^|;]*', '[]a-c]', '[[:space:]x]', '\\d']),
        () => `${pick(words)}${pick(['?', '*', '+', '{0,2}', ''])}`,
      ])();
    let checked = 0;
    for (let i = 0; i < 400; i++) {
      const pattern = Array.from({ length: 1 + Math.floor(rnd() * 4) }, piece).join('') + (rnd() < 0.2 ? `|${piece()}${piece()}` : '');
      const literals = regexLiterals(pattern);
      if (!literals) continue;
      const re = RE2JS.compile(pattern, rnd() < 0.5 ? RE2JS.CASE_INSENSITIVE : 0);
      for (let j = 0; j < 40; j++) {
        const text = Array.from({ length: 1 + Math.floor(rnd() * 6) }, () => pick([...words, ' ', ' ', 'A', ']', '|'])).join(pick(['', ' ']));
        if (!re.test(text)) continue;
        checked++;
        assert.ok(literals.some((l) => text.toLowerCase().includes(l)), `${pattern} matches ${JSON.stringify(text)} without any of ${JSON.stringify(literals)}`);
      }
    }
    assert.ok(checked > 200, `${checked} matches checked`);
  });

  it('prefers any other requirement to one on a categorization field', () => {
    assert.deepEqual(requirement({ all: [{ field: 'event.type', equals: 'start' }, { field: 'process.command_line', contains: 'nc ' }] }, ctx), [{ field: 'process.command_line', literals: ['nc '] }]);
    assert.deepEqual(requirement({ all: [{ field: 'event.type', equals: 'start' }, { field: 'process.name', in: ['nc'] }] }, ctx), [{ field: 'event.type', literals: ['start'] }], 'still better than none');
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
