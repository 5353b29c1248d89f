import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { FORGET_BELOW, RiskBook, type Addition } from '../../src/detect/risk-book';

const MIN = 60_000;
const limits = { threshold: 100, rearm: 50, halfLifeMs: 10 * MIN, maxContainers: 3, maxContributors: 4 };
const finding = (id: string, points: number, techniques: string[] = []): Addition => ({ id, name: id, cls: 'signal', severity: 'low', techniques, tactics: [], points });

describe('risk book: decay, threshold, re-arm, caps', () => {
  it('points halve every half-life, and a contributor worth less than FORGET_BELOW is forgotten', () => {
    const b = new RiskBook(limits);
    b.add('c', finding('r1', 80), 0);
    assert.equal(b.score('c', 0), 80);
    assert.equal(b.score('c', 10 * MIN), 40);
    assert.equal(b.score('c', 20 * MIN), 20);
    // 80 → under 0.5 after log2(160) ≈ 7.3 half-lives: the next finding prunes it.
    b.add('c', finding('r2', 10), 80 * MIN);
    assert.deepEqual([...b.get('c')!.contributors.keys()], ['r2']);
    assert.ok(80 * Math.pow(2, -8) < FORGET_BELOW);
  });

  it('a repeat of one rule refreshes its points instead of adding them: one noisy building block never crosses alone', () => {
    const b = new RiskBook(limits);
    for (let i = 0; i < 50; i++) assert.equal(b.add('c', finding('apt', 47), i * 1000), undefined);
    assert.ok(Math.abs(b.score('c', 49_000) - 47) < 1e-9);
    const c = b.get('c')!.contributors.get('apt')!;
    assert.deepEqual([c.count, c.first, c.last], [50, 0, 49_000]);
  });

  it('crosses once when different findings add up to the threshold, then stays quiet until the score fell under the re-arm mark', () => {
    const b = new RiskBook(limits);
    assert.equal(b.add('c', finding('recon', 21), 0), undefined);
    assert.equal(b.add('c', finding('discovery', 21), 1000), undefined);
    assert.equal(b.add('c', finding('install', 47), 2000), undefined);
    const x = b.add('c', finding('creds', 73), 3000);
    assert.ok(x && x.score >= 100 && x.score < 162.01, `crossed at ${x?.score}`);
    // still over the threshold: more findings, no second crossing
    assert.equal(b.add('c', finding('archive', 47), 4000), undefined);
    // One half-life later the score (≈104) is still over the re-arm mark: no new crossing.
    assert.equal(b.add('c', finding('archive2', 47), 10 * MIN), undefined);
    // Long after, under 50: re-armed by the next finding, and fresh findings cross again.
    const later = 60 * MIN;
    assert.ok(b.score('c', later) < 50);
    assert.equal(b.add('c', finding('recon', 21), later), undefined);
    assert.ok(b.add('c', finding('creds', 99), later + 1));
  });

  it('at most maxContributors per container: the one worth least now leaves, counted', () => {
    const b = new RiskBook({ ...limits, threshold: 1e4, rearm: 1 });
    for (const [i, p] of [30, 5, 20, 40, 10].entries()) b.add('c', finding(`r${i}`, p), 0);
    assert.deepEqual([...b.get('c')!.contributors.keys()].sort(), ['r0', 'r2', 'r3', 'r4']);
    assert.equal(b.evictedContributors, 1);
  });

  it('at most maxContainers: the least recently touched container leaves, counted', () => {
    const b = new RiskBook(limits);
    for (const c of ['a', 'b', 'c']) b.add(c, finding('x', 10), 0);
    b.add('a', finding('y', 10), 1); // a is now the most recent
    b.add('d', finding('x', 10), 2);
    assert.equal(b.size, 3);
    assert.equal(b.get('b'), undefined);
    assert.ok(b.get('a') && b.get('d'));
    assert.equal(b.evictedContainers, 1);
  });

  it('top lists contributors by current points', () => {
    const b = new RiskBook({ ...limits, threshold: 1e4, rearm: 1 });
    b.add('c', finding('old-high', 80), 0);
    b.add('c', finding('new-mid', 50), 20 * MIN);
    assert.deepEqual(b.top(b.get('c')!, 20 * MIN).map((k) => [k.id, Math.round(k.points)]), [['new-mid', 50], ['old-high', 20]]);
  });
});
