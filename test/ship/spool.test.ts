import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import winston from 'winston';
import { DiskSpool, spoolConfig } from '../../src/ship/spool';
import type { Outcome } from '../../src/ship/envelope';
import { Telemetry } from '../../src/telemetry/telemetry';

const quiet = () => new Telemetry(winston.createLogger({ silent: true }));
const segments = (dir: string) => readdirSync(dir).filter((n) => n.endsWith('.seg')).sort();

function spool(dir: string, opts: Record<string, unknown> = {}, t = quiet()): DiskSpool {
  return new DiskSpool(dir, spoolConfig.parse({ segment_bytes: 4096, fsync_interval: '50ms', ...opts }), t);
}

describe('DiskSpool', () => {
  it('hands records over in order with their ack tokens, and deletes acknowledged segments', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const s = spool(dir);
    const outcomes: string[] = [];
    for (let i = 0; i < 200; i++) {
      s.push({ index: 'logs-x', id: `id${i}`, doc: { n: i, text: 'é'.repeat(20) }, ack: { done: (o: Outcome) => outcomes.push(`${i}:${o}`) } });
      if (i % 20 === 19) await s.take(0, 0, 0); // one write per event-loop turn: let turns pass
    }
    assert.equal(s.size, 200);
    const got = [];
    for (;;) {
      const batch = await s.take(64, 1 << 20, 0);
      if (batch.length === 0 || got.length + batch.length > 200) { got.push(...batch); break; }
      got.push(...batch);
      if (got.length === 200) break;
    }
    assert.deepEqual(got.map((q) => q.env.id), Array.from({ length: 200 }, (_, i) => `id${i}`));
    assert.deepEqual(JSON.parse(got[7].source), { n: 7, text: 'é'.repeat(20) });
    assert.ok(segments(dir).length > 3, 'several segments were written');
    for (const q of got) q.env.ack!.done('acked');
    assert.equal(outcomes.length, 200);
    assert.equal(outcomes[199], '199:acked');
    assert.equal(segments(dir).length, 1, 'only the tail segment is left');
    s.close();
  });

  it('sends an earlier run\'s records again after a crash, without their lost tokens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const a = spool(dir);
    for (let i = 0; i < 50; i++) a.push({ index: 'logs-x', id: `r${i}`, doc: { i } });
    const first = await a.take(10, 1 << 20, 0);
    first.forEach((q) => q.env.ack!.done('acked'));
    a.close(); // the process dies here: 40 never sent
    const b = spool(dir);
    const replay = await b.take(1000, 1 << 24, 0);
    // Whole segments are kept until all of their records are done: delivered ones come again (409s).
    assert.ok(replay.length >= 40 && replay.length <= 50, `replayed ${replay.length}`);
    assert.deepEqual(replay.slice(-40).map((q) => q.env.id), Array.from({ length: 40 }, (_, i) => `r${i + 10}`));
    replay.forEach((q) => q.env.ack!.done('duplicate'));
    b.push({ index: 'logs-x', id: 'new', doc: {} });
    assert.deepEqual((await b.take(10, 1 << 20, 0)).map((q) => q.env.id), ['new']);
    b.close();
  });

  it('skips only a corrupt record and says where: the records after it are still delivered', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const a = spool(dir, { segment_bytes: 1 << 20 });
    for (let i = 0; i < 10; i++) a.push({ index: 'logs-x', id: `c${i}`, doc: { i } });
    await a.take(0, 0, 0); // flush
    a.close();
    const [seg] = segments(dir);
    const bytes = readFileSync(join(dir, seg));
    const recLen = bytes.length / 10;
    bytes[Math.floor(recLen * 4.5)] ^= 0xff; // inside record 5's payload
    writeFileSync(join(dir, seg), bytes);
    const t = quiet();
    const b = spool(dir, {}, t);
    const got = await b.take(100, 1 << 20, 0);
    // before the fix the rest of the segment (c5…c9) was skipped with the bad record
    assert.deepEqual(got.map((q) => q.env.id), ['c0', 'c1', 'c2', 'c3', 'c5', 'c6', 'c7', 'c8', 'c9']);
    assert.equal((await t.snapshot())['dockward_events_total{event=spool.corrupt}'], 1);
    b.close();
  });

  it('turns unwritable at max_bytes and writable again once acknowledged segments are gone', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const s = spool(dir, { max_bytes: 8192, segment_bytes: 2048 });
    let i = 0;
    while (s.writable) s.push({ index: 'logs-x', id: `w${i++}`, doc: { pad: 'x'.repeat(100) } }), await s.take(0, 0, 0);
    let woke = false;
    const w = s.whenWritable().then(() => (woke = true));
    const all = await s.take(1000, 1 << 20, 0);
    assert.equal(all.length, i);
    assert.equal(woke, false);
    all.forEach((q) => q.env.ack!.done('acked'));
    await w;
    assert.equal(woke, true);
    assert.ok(s.writable);
    s.close();
  });

  it('wakes every waiting taker (the sink runs several workers)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const s = spool(dir);
    const takers = [s.take(1, 1 << 20, 0), s.take(1, 1 << 20, 0)];
    s.push({ index: 'logs-x', id: 'a', doc: {} });
    s.push({ index: 'logs-x', id: 'b', doc: {} });
    const got = await Promise.all(takers);
    assert.deepEqual(got.map((b) => b.map((q) => q.env.id)).flat().sort(), ['a', 'b']);
    s.close();
  });

  it('writes nothing once disposed: a late push is counted, and a file that took the freed descriptor is untouched', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-'));
    const t = quiet();
    const s = spool(dir, {}, t);
    s.push({ index: 'logs-x', id: 'a', doc: { n: 1 } });
    await s.take(0, 0, 0);
    s.close();
    s.push({ index: 'logs-x', id: 'after-close', doc: { n: 2 } }); // still written: replayed next run
    s.dispose();
    // the descriptor number the tail had is free now: the next file opened may get it
    const other = join(dir, 'other.txt');
    writeFileSync(other, 'untouched');
    t.logger.end(); // as at the end of `dockward run`: a late event must not throw "write after end"
    s.push({ index: 'logs-x', id: 'late', doc: { n: 3 } });
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    assert.equal(readFileSync(other, 'utf8'), 'untouched');
    assert.equal((await t.snapshot())['dockward_events_total{event=spool.late}'], 1);
    const again = spool(dir);
    const replayed = await again.take(10, 1 << 20, 0);
    assert.deepEqual(replayed.map((q) => q.env.id), ['a', 'after-close']);
    again.dispose();
  });
});
