import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BoundedQueue } from '../../src/ship/queue';

const env = (i: number) => ({ index: 'x', id: String(i), doc: { i } });

describe('BoundedQueue', () => {
  it('turns unwritable at its bound and wakes writers when drained', async () => {
    const q = new BoundedQueue(3, 1 << 20);
    for (let i = 0; i < 3; i++) q.push(env(i));
    assert.equal(q.writable, false);
    let woke = false;
    const w = q.whenWritable().then(() => (woke = true));
    const batch = await q.take(2, 1 << 20, 0);
    assert.deepEqual(batch.map((b) => b.env.id), ['0', '1']);
    await w;
    assert.equal(woke, true);
  });

  it('returns a full batch at once and a partial one after the linger time', async () => {
    const q = new BoundedQueue(100, 1 << 20);
    for (let i = 0; i < 5; i++) q.push(env(i));
    const t0 = Date.now();
    assert.equal((await q.take(5, 1 << 20, 5000)).length, 5);
    assert.ok(Date.now() - t0 < 1000);
    q.push(env(9));
    const t1 = Date.now();
    assert.equal((await q.take(5, 1 << 20, 150)).length, 1);
    assert.ok(Date.now() - t1 >= 140);
  });

  it('bounds a batch by bytes but never returns an empty batch for one big document', async () => {
    const q = new BoundedQueue(100, 1 << 20);
    q.push({ index: 'x', id: 'big', doc: { s: 'y'.repeat(1000) } });
    q.push(env(1));
    assert.deepEqual((await q.take(10, 100, 0)).map((b) => b.env.id), ['big']);
    assert.deepEqual((await q.take(10, 100, 0)).map((b) => b.env.id), ['1']);
  });
});
