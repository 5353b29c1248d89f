import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { Cad, type CadOptions } from '../../src/anomaly/cad';

/** A seeded generator (mulberry32), so every run feeds CAD the same series. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Regimes a container's signal goes through: a daily cycle, noise, a level shift, spikes. */
function series(seed: number, n: number): number[] {
  const r = rng(seed);
  return Array.from({ length: n }, (_, i) => {
    const cycle = 40 + 30 * Math.sin((2 * Math.PI * i) / 144);
    const shift = i > n * 0.6 ? 35 : 0;
    const spike = r() < 0.01 ? 80 * r() : 0;
    return cycle + shift + spike + 10 * r();
  });
}

/** CAD OSE's encoding as univariate.ts does it: bit k of the bin becomes fact 2k or 2k+1. */
function facts(v: number, bits = 4): number[] {
  const bin = Math.max(0, Math.min(2 ** (bits + 2) - 1, Math.trunc(v / 8)));
  const width = Math.max(bits, bin.toString(2).length);
  return Array.from({ length: width }, (_, k) => k * 2 + ((bin >> k) & 1));
}

const options = (maxContexts: number): CadOptions => ({ baseThreshold: 0.75, restPeriod: 0, maxLeftSemiContextsLength: 7, maxActiveNeurons: 15, maxContexts });

function run(seed: number, maxContexts: number, restoreAt?: number): { digest: string; contexts: number; scores: number[] } {
  let cad = new Cad(options(maxContexts));
  const scores: number[] = [];
  series(seed, 3000).forEach((v, i) => {
    if (i === restoreAt) {
      const saved = JSON.parse(JSON.stringify(cad.snapshot()));
      cad = new Cad(options(maxContexts));
      cad.restore(saved);
    }
    scores.push(cad.step(facts(v)));
  });
  return { digest: createHash('sha256').update(scores.join(',')).digest('hex').slice(0, 16), contexts: cad.contextCount, scores };
}

// The scores of the port as it stood when it matched NAB's published CAD OSE results (docs/anomaly.md):
// a change to how contexts are stored must not change a single score.
test('CAD scores are exactly those of the reference port, under the cap and past it', () => {
  assert.deepEqual(
    [run(1, 20000), run(2, 3000), run(3, 400)].map((r) => [r.digest, r.contexts]),
    PINNED,
  );
});

test('a restored CAD continues with the same scores as one that never stopped', () => {
  const straight = run(2, 3000);
  const resumed = run(2, 3000, 1700);
  assert.equal(resumed.digest, straight.digest);
});

test('contexts stop at the cap, and scores stay within [0, 1]', () => {
  const r = run(3, 400);
  assert.equal(r.contexts, 400);
  assert.ok(r.scores.every((s) => s >= 0 && s <= 1));
});

const PINNED: Array<[string, number]> = [
  ['1deba21be24a6395', 16965],
  ['ed920002b5dc7a5c', 3000],
  ['27743e09a52da0cc', 400],
];
