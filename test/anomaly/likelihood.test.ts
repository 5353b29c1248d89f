import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { erfc, Hold, Likelihood, SpatialRange } from '../../src/anomaly/likelihood';
import { DEFAULT_VARIANT, VARIANTS } from '../../src/anomaly/variants';

// deterministic noise in [0, 1)
const noise = (i: number): number => ((i * 7919) % 101) / 101;

describe('anomaly likelihood', () => {
  it('erfc matches known values', () => {
    for (const [x, want] of [[0, 1], [1, 0.157299207], [2, 0.004677735], [-1, 1.842700793]]) assert.ok(Math.abs(erfc(x) - want) < 1e-6, `erfc(${x})`);
  });

  it('reads 0.5 likelihood while learning, low for ordinary raw scores, high for a sustained rise, and only the first red counts', () => {
    const l = new Likelihood({ learn: 50, estimate: 50, window: 500, reestimate: 10, average: 5 });
    const early = l.update(0.9);
    assert.ok(Math.abs(early - Math.log(0.5 + 1e-10) / Math.log(1e-10)) < 1e-9, 'not yet fitted: likelihood 0.5');
    let ordinary = 0;
    for (let i = 1; i < 400; i++) {
      const s = l.update(0.2 * noise(i));
      if (i > 100) ordinary = Math.max(ordinary, s);
    }
    assert.ok(ordinary < 0.4, `ordinary raw scores read at most ${ordinary.toFixed(3)}`);
    const burst = [1, 1, 1, 1, 1].map(() => l.update(1));
    const first = burst.findIndex((s) => s >= 0.5);
    assert.ok(first >= 0, `a run of raw 1s reaches ${Math.max(...burst).toFixed(3)}`);
    assert.ok(burst.slice(first + 1).every((s) => s < 0.5), 'a red right after a red is lowered');
  });

  it('a state round trip continues exactly', () => {
    const o = { learn: 20, estimate: 20, window: 100, reestimate: 7, average: 3 };
    const a = new Likelihood(o);
    for (let i = 0; i < 150; i++) a.update(noise(i) * 0.3);
    const b = new Likelihood(o, JSON.parse(JSON.stringify(a.state)));
    for (let i = 150; i < 300; i++) assert.equal(b.update(noise(i)), a.update(noise(i)));
  });

  it('weighted moments: the state stays a few numbers however long the series, and a rise still reads red', () => {
    const o = { learn: 50, estimate: 50, window: 8640, reestimate: 100, average: 7, ew: true, filter: false };
    const l = new Likelihood(o);
    for (let i = 0; i < 20_000; i++) l.update(0.2 * noise(i));
    assert.equal(l.state.averages.length, 0);
    assert.ok(JSON.stringify(l.state).length < 400, `state ${JSON.stringify(l.state).length} bytes of JSON`);
    const rise = [1, 1, 1].map(() => l.update(1));
    assert.ok(rise.every((x) => x >= 0.5), `a run of raw 1s reads ${rise.map((x) => x.toFixed(2)).join(', ')} (no filter: each stays red)`);
  });

  it('with a noise floor, a flat series has a scale: a jump past the floor is a new extreme, a wobble within it is not', () => {
    const flat = new SpatialRange(0.05, 5);
    assert.deepEqual([0, 0, 0, 3, 9, 9].map((v) => flat.update(v)), [0, 0, 0, 0, 1, 0]);
    const restored = new SpatialRange(0.05, 5, JSON.parse(JSON.stringify(flat.state)));
    assert.equal(restored.update(13.9), 0, 'within one floor of the range seen');
    assert.equal(restored.update(20), 1);
    // without a floor (NAB), a flat start stays unscored: its second value would always be "new"
    // a rate's jitter grows with it: past a steady 60 a minute, 62 is not new, 75 is
    const rate = new SpatialRange(0.05, 2, undefined, 0.1);
    assert.deepEqual([60, 59, 61, 62, 75].map((v) => rate.update(v)), [0, 0, 0, 0, 1]);
    const nab = new SpatialRange(0.05);
    assert.deepEqual([0, 0, 7].map((v) => nab.update(v)), [0, 0, 0]);
  });

  it('a new extreme scores 1 once outside the tolerance; the hold keeps one report per event', () => {
    const s = new SpatialRange(0.05);
    assert.deepEqual([0, 10, 5, 10.4, 10.6, 11.2, -1].map((v) => s.update(v)), [0, 0, 0, 0, 0, 1, 1]);
    const h = new Hold(3, 0.5);
    assert.deepEqual([0.9, 0.9, 0.2, 0.9, 0.9, 0.9].map((v) => h.apply(v)), [0.9, 0, 0.2, 0, 0.9, 0]);
  });

  it(`the NAB default (${DEFAULT_VARIANT}) is strictly online: a row's score does not change with later rows`, () => {
    const series = Array.from({ length: 1200 }, (_, i) => 50 + 20 * Math.sin(i / 10) + 5 * noise(i));
    const run = (xs: number[]): number[] => {
      // handed the whole file's min and max as NAB hands them: a strictly online variant ignores them
      const f = VARIANTS[DEFAULT_VARIANT]({ min: Math.min(...xs), max: Math.max(...xs), probation: 180 });
      return xs.map((v, i) => f(v, i * 60_000));
    };
    const a = run(series);
    const altered = series.map((v, i) => (i >= 700 ? v * 3 + 100 : v));
    const b = run(altered);
    assert.deepEqual(b.slice(0, 700), a.slice(0, 700));
    assert.ok(Math.max(...b.slice(700, 720)) === 1, 'the jump is reported');
  });
});
