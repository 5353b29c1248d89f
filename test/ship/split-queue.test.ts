import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import winston from 'winston';
import { BoundedQueue } from '../../src/ship/queue';
import { DiskSpool, spoolConfig } from '../../src/ship/spool';
import { SplitQueue } from '../../src/ship/split-queue';
import type { Envelope, Outcome } from '../../src/ship/envelope';
import { Telemetry } from '../../src/telemetry/telemetry';

const quiet = () => new Telemetry(winston.createLogger({ silent: true }));
const spooledBytes = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.seg')).reduce((n, f) => n + statSync(join(dir, f)).size, 0);

function split(maxDocs = 100) {
  const dir = mkdtempSync(join(tmpdir(), 'split-'));
  const disk = new DiskSpool(dir, spoolConfig.parse({ segment_bytes: 1 << 20, fsync_interval: '50ms' }), quiet());
  const q = new SplitQueue(new BoundedQueue(maxDocs, 1 << 20), disk);
  return { q, dir, disk };
}
const line = (i: number, done?: (o: Outcome) => void): Envelope => ({ index: 'logs-dockward.container-t', id: `l${i}`, doc: { message: `line ${i}` }, replayable: true, ack: done && { done } });
const alert = (i: number): Envelope => ({ index: 'logs-dockward.alert-t', id: `a${i}`, doc: { rule: i } });

describe('SplitQueue', () => {
  it('log lines through memory, everything else through the spool; one take sees both', async () => {
    const { q, dir, disk } = split();
    for (let i = 0; i < 50; i++) q.push(line(i));
    q.push(alert(0));
    assert.equal(q.size, 51);
    assert.equal(q.spooled?.records, 1, 'the spool reports its own record, not the lines');
    const got = await q.take(100, 1 << 20, 200);
    assert.deepEqual(got.map((g) => g.env.id).sort(), [...Array.from({ length: 50 }, (_, i) => `l${i}`), 'a0'].sort());
    assert.deepEqual(JSON.parse(got.find((g) => g.env.id === 'l7')!.source), { message: 'line 7' });
    // Only the alert was written to disk: 8 bytes of header and its [index, id] line and JSON.
    const onDisk = spooledBytes(dir);
    assert.equal(onDisk, 8 + Buffer.byteLength(JSON.stringify([alert(0).index, 'a0']) + '\n' + JSON.stringify({ rule: 0 })));
    q.close();
    disk.dispose();
  });

  it('a log flood that fills every batch does not starve the spool: takes alternate which queue they start with', async () => {
    const { q, disk } = split(10_000);
    for (let i = 0; i < 5000; i++) q.push(line(i));
    for (let i = 0; i < 3; i++) q.push(alert(i));
    await new Promise((r) => setImmediate(r)); // the spool writes once per turn
    const first = await q.take(100, 1 << 20, 0);
    const second = await q.take(100, 1 << 20, 0);
    const alerts = [...first, ...second].filter((g) => g.env.id.startsWith('a')).map((g) => g.env.id);
    assert.deepEqual(alerts, ['a0', 'a1', 'a2'], 'the alerts are in the first two batches of 5,003 documents');
    assert.equal(first.length + second.length, 200);
    q.close();
    disk.dispose();
  });

  it('a waiting take wakes for either queue and returns after the linger', async () => {
    const { q, disk } = split();
    const pending = q.take(10, 1 << 20, 50);
    setTimeout(() => q.push(alert(1)), 20);
    const t0 = Date.now();
    const got = await pending;
    assert.deepEqual(got.map((g) => g.env.id), ['a1']);
    assert.ok(Date.now() - t0 >= 40, 'waited for more after the first document (linger)');
    const next = q.take(10, 1 << 20, 0);
    q.push(line(1));
    assert.deepEqual((await next).map((g) => g.env.id), ['l1']);
    q.close();
    assert.deepEqual(await q.take(10, 1 << 20, 1000), [], 'closed and empty');
    disk.dispose();
  });

  it('a full memory queue pauses writers (the log streams) until the sink drains it; acks reach the log line', async () => {
    const { q, disk } = split(5);
    const outcomes: string[] = [];
    for (let i = 0; i < 5; i++) q.push(line(i, (o) => outcomes.push(`l${i}:${o}`)));
    assert.equal(q.writable, false);
    let woke = false;
    const w = q.whenWritable().then(() => (woke = true));
    const got = await q.take(3, 1 << 20, 0);
    await w;
    assert.equal(woke, true);
    for (const g of got) g.env.ack!.done('acked');
    assert.deepEqual(outcomes, ['l0:acked', 'l1:acked', 'l2:acked']);
    q.close();
    disk.dispose();
  });

  it('waiting takes register one wait per queue, not one per take', async () => {
    const { q, disk } = split();
    const takers = () => (disk as unknown as { takers: Set<unknown> }).takers.size;
    // Each take waits for the memory queue's line and loses the race on the spool's side.
    for (let i = 0; i < 50; i++) {
      const t = q.take(1, 1 << 20, 0);
      q.push(line(i));
      await t;
    }
    assert.equal(takers(), 1, 'one wait on the spool, shared');
    q.close();
    disk.dispose();
  });
});
