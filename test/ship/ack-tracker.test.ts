import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AckTracker } from '../../src/ship/ack-tracker';

describe('AckTracker', () => {
  it('commits only the newest cursor with everything before it done', () => {
    const commits: number[] = [];
    const t = new AckTracker<number>((c) => commits.push(c));
    const tokens = [10, 20, 30, 40].map((c) => t.issue(c));
    tokens[2].done('acked');
    tokens[1].done('duplicate');
    assert.deepEqual(commits, [], 'nothing while the first is pending');
    tokens[0].done('acked');
    assert.deepEqual(commits, [30]);
    tokens[3].done('dead_lettered');
    assert.deepEqual(commits, [30, 40]);
    assert.equal(t.pending, 0);
  });

  it('ignores a second outcome for one document and keeps order across compaction', () => {
    let last = -1;
    const t = new AckTracker<number>((c) => (last = c));
    const tokens = Array.from({ length: 10_000 }, (_, i) => t.issue(i));
    for (let i = 0; i < 5000; i++) tokens[i].done('acked');
    tokens[0].done('acked');
    assert.equal(last, 4999);
    for (let i = 9999; i >= 5000; i--) tokens[i].done('acked');
    assert.equal(last, 9999);
    assert.equal(t.pending, 0);
  });
});
