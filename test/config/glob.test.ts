import assert from 'node:assert/strict';
import { performance } from 'node:perf_hooks';
import { describe, it } from 'node:test';
import { anyGlob, glob } from '../../src/config/glob';

/** The RegExp the globs used to become (review L1): the reference for what matches. */
function oldGlob(pattern: string): (s: string) => boolean {
  const re = new RegExp('^' + pattern.split('*').map((p) => p.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$');
  return (s) => re.test(s);
}

function ms(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

describe('glob', () => {
  it('matches the whole text, * for any run of characters, the rest literally', () => {
    const cases: Array<[string, string, boolean]> = [
      ['', '', true],
      ['', 'a', false],
      ['*', '', true],
      ['*', 'anything at all', true],
      ['**', 'x', true],
      ['a*b*c', 'abc', true],
      ['a*b*c', 'a-b-c', true],
      ['a*b*c', 'abcc', true],
      ['a*b*c', 'acb', false],
      ['a*b*c', 'ab', false],
      ['a*b*c', 'xabc', false],
      ['a*a', 'a', false], // prefix and suffix cannot share the one "a"
      ['ab*ba', 'aba', false],
      ['ab*ba', 'abba', true],
      ['*-*-*-prod', 'eu-west-1-prod', true],
      ['*-*-*-prod', '---prod', true],
      ['*-*-*-prod', '--prod', false],
      ['web', 'my-web-1', false], // anchored at both ends
      ['web*', 'xweb-1', false],
      ['*web', 'web-1', false],
      ['*web*', 'my-web-1', true],
      ['v1.2+(x)?[y]{2}$^|\\', 'v1.2+(x)?[y]{2}$^|\\', true], // RegExp syntax is literal
      ['v1.2', 'v1x2', false],
      ['.*', 'abc', false],
      ['.*', '.abc', true],
      ['a?c', 'abc', false],
      ['*', 'line one\nline two', true], // `.` stopped at a newline; a star does not
      ['é*ü', 'é-ü', true],
    ];
    for (const [pattern, text, want] of cases) assert.equal(glob(pattern)(text), want, `${JSON.stringify(pattern)} vs ${JSON.stringify(text)}`);
    assert.equal(anyGlob(['web-*', 'db-*'])('db-1'), true);
    assert.equal(anyGlob(['web-*', 'db-*'])('cache-1'), false);
    assert.equal(anyGlob([])('x'), false);
  });

  it('agrees with the former RegExp on every short pattern and text over a small alphabet', () => {
    // Deterministic, so a failure is the same on every run.
    let seed = 7;
    const rnd = (n: number) => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) % n);
    const word = (alphabet: string, max: number) => Array.from({ length: rnd(max + 1) }, () => alphabet[rnd(alphabet.length)]).join('');
    for (let i = 0; i < 20_000; i++) {
      const pattern = word('ab*.', 6);
      const text = word('ab.', 8);
      assert.equal(glob(pattern)(text), oldGlob(pattern)(text), `${JSON.stringify(pattern)} vs ${JSON.stringify(text)}`);
    }
  });

  it('takes linear time where the RegExp backtracked (review L1: 26 s on 4 KB)', () => {
    const m = glob('*-*-*-prod');
    for (const n of [4_000, 100_000]) {
      const value = '-'.repeat(n) + 'x';
      let got = true;
      const t = ms(() => (got = m(value)));
      assert.equal(got, false);
      assert.ok(t < 50, `${n} bytes took ${t.toFixed(1)} ms`);
      // The same length that does match, and a pattern of many stars.
      const ok = '-'.repeat(n) + 'prod';
      assert.ok(ms(() => assert.equal(m(ok), true)) < 50);
      const stars = glob('*a'.repeat(200) + '*b');
      assert.ok(ms(() => assert.equal(stars('a'.repeat(n)), false)) < 50);
    }
  });
});
