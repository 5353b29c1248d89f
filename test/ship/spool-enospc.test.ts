import assert from 'node:assert/strict';
import { unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import winston from 'winston';
import { DiskSpool, spoolConfig } from '../../src/ship/spool';
import type { Outcome } from '../../src/ship/envelope';
import { Telemetry } from '../../src/telemetry/telemetry';
import { fill, fullDiskSkip, mountSmall, until } from '../support/full-disk';

const turn = () => new Promise<void>((r) => setImmediate(r));

/** Everything readable, in order: the spool is closed first so take() does not wait for more. */
async function drain(s: DiskSpool): Promise<string[]> {
  s.close();
  const ids: string[] = [];
  for (;;) {
    const batch = await s.take(1000, 1 << 24, 0);
    if (batch.length === 0) return ids;
    for (const q of batch) {
      ids.push(q.env.id);
      q.env.ack!.done('acked');
    }
  }
}

// m8-enospc.sh of the security review, as a test: a small tmpfs stands for a full host disk.
// Never skipped: without root the run fails loudly (a skipped test is a failure).
if (fullDiskSkip) throw new Error(fullDiskSkip);

describe('DiskSpool on a full disk (ENOSPC)', () => {
  let mnt = '';
  let unmount = () => {};
  const spools: DiskSpool[] = [];
  const open = (name: string, t: Telemetry, opts: Record<string, unknown> = {}) => {
    const s = new DiskSpool(join(mnt, name), spoolConfig.parse({ fsync_interval: '50ms', ...opts }), t);
    spools.push(s);
    return s;
  };
  before(() => ({ dir: mnt, unmount } = mountSmall('spool-full-')));
  // a failed test must not leave retries running or descriptors open on the mount
  afterEach(() => spools.splice(0).forEach((s) => s.dispose()));
  after(() => unmount());

  it('keeps the records in memory, turns unwritable, says so once, and delivers every record once space is back', async () => {
    const filler = join(mnt, 'filler');
    const t = new Telemetry(winston.createLogger({ silent: true }));
    const s = open('spool', t, { segment_bytes: 1 << 24 });
    fill(filler, 200 * 1024); // room left for a few dozen records of 1 KB
    const ids: string[] = [];
    const outcomes = new Map<string, Outcome>();
    const push = () => {
      for (let i = 0; i < 50; i++) {
        const id = `r${ids.length}`;
        ids.push(id);
        s.push({ index: 'logs-x', id, doc: { message: 'x'.repeat(1000) }, ack: { done: (o) => outcomes.set(id, o) } });
      }
    };
    // as the review's script: 50 records of 1 KB a turn, until the spool says stop
    while (s.writable && ids.length < 5000) {
      push();
      await turn();
    }
    assert.equal(s.writable, false, 'unwritable while the disk is full');
    // sources that cannot pause (alerts, audit, stats) keep pushing meanwhile (all must fit in 256 KiB later)
    push();
    await turn();
    await new Promise((r) => setTimeout(r, 300)); // several retries fail meanwhile
    assert.equal(s.writable, false);
    const c = await t.snapshot();
    assert.equal(c['dockward_events_total{event=spool.write_failed}'], 1, 'said once, not once a retry');
    assert.match(t.health.list().find((h) => h.component === 'spool')?.reason ?? '', /ENOSPC/);
    let woke = false;
    void s.whenWritable().then(() => (woke = true));
    unlinkSync(filler);
    await until('the collectors to be woken', () => woke);
    assert.equal(s.writable, true);
    assert.equal((await t.snapshot())['dockward_events_total{event=spool.write_recovered}'], 1);
    assert.equal(t.health.degraded, false);
    const got = await drain(s);
    assert.deepEqual(got, ids, 'every record pushed before and during the fault, in order');
    assert.equal(outcomes.size, ids.length);
    assert.ok([...outcomes.values()].every((o) => o === 'acked'));
  });

  it('starts on a disk that is already full, without throwing, and catches up once space is back', async () => {
    const filler = join(mnt, 'filler');
    fill(filler);
    const t = new Telemetry(winston.createLogger({ silent: true }));
    const s = open('spool2', t);
    const ids = Array.from({ length: 20 }, (_, i) => `s${i}`);
    for (const id of ids) s.push({ index: 'logs-x', id, doc: { message: 'y'.repeat(2000) } });
    await until('the spool to say it cannot write', () => !s.writable);
    unlinkSync(filler);
    await until('writes to work again', () => s.writable);
    assert.deepEqual(await drain(s), ids);
  });

  it('beyond its memory bound, a record is dropped with a final outcome and counted, never held without limit', async () => {
    const filler = join(mnt, 'filler');
    const t = new Telemetry(winston.createLogger({ silent: true }));
    // max_bytes 32 KiB bounds what is held in memory while the disk refuses writes
    const s = open('spool3', t, { max_bytes: '32kib' });
    fill(filler);
    const outcomes: string[] = [];
    const push = (i: number) => s.push({ index: 'logs-x', id: `o${i}`, doc: { message: 'z'.repeat(500) }, ack: { done: (o) => outcomes.push(o) } });
    // one turn's burst passes the bound (it was pushed before the write failed), what follows does not
    for (let i = 0; i < 100; i++) push(i);
    await until('the first write to fail', () => t.health.degraded);
    const held = s.byteSize;
    for (let i = 100; i < 200; i++) push(i);
    const c = await t.snapshot();
    assert.equal(s.byteSize, held, 'nothing more held');
    assert.ok(outcomes.length > 0 && outcomes.every((o) => o === 'dropped'));
    assert.equal(c['dockward_documents_total{outcome=dropped}'], outcomes.length);
    assert.equal(c['dockward_events_total{event=spool.overflow}'], 1);
    unlinkSync(filler);
    // not `writable`: what was held is over max_bytes now, as a burst can be
    await until('writes to work again', () => !t.health.degraded);
    const droppedCount = outcomes.length;
    const got = await drain(s);
    assert.equal(got.length + droppedCount, 200, 'every record is delivered or dropped, none is lost silently');
  });
});
