import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, openSync, readdirSync, symlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import winston from 'winston';
import { DiskSpool, spoolConfig } from '../../src/ship/spool';
import type { Outcome } from '../../src/ship/envelope';
import { Telemetry } from '../../src/telemetry/telemetry';

/** A record as the spool frames it: [length][CRC-32][payload]. */
function rec(payload: string | Buffer): Buffer {
  const b = Buffer.from(payload);
  const h = Buffer.alloc(8);
  h.writeUInt32BE(b.length, 0);
  h.writeUInt32BE(crc32(b), 4);
  return Buffer.concat([h, b]);
}
const good = (i: number) => rec(JSON.stringify(['logs-x', `id${i}`]) + '\n' + JSON.stringify({ n: i }));

/** A telemetry whose log lines are kept, to count what was said. */
function capturing(): { t: Telemetry; lines: string[] } {
  const lines: string[] = [];
  const stream = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
  return { t: new Telemetry(winston.createLogger({ transports: [new winston.transports.Stream({ stream })] })), lines };
}

/** Writes the segments as an earlier run would have left them, then reads everything back. */
async function replay(segments: Array<Buffer | 'dir'>): Promise<{ ids: string[]; counts: Record<string, number>; t: Telemetry; lines: string[]; dir: string; ms: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'spool-bad-'));
  segments.forEach((seg, i) => {
    const name = join(dir, `${String(i + 1).padStart(16, '0')}.seg`);
    if (seg === 'dir') mkdirSync(name);
    else writeFileSync(name, seg);
  });
  const { t, lines } = capturing();
  const t0 = Date.now();
  const s = new DiskSpool(dir, spoolConfig.parse({ segment_bytes: 1 << 24 }), t);
  s.close(); // take() then returns what is readable instead of waiting for more
  const got = await s.take(10_000, 1 << 30, 0);
  const ms = Date.now() - t0;
  got.forEach((q) => q.env.ack!.done('acked'));
  s.dispose();
  return { ids: got.map((q) => q.env.id), counts: await t.snapshot(), t, lines, dir, ms };
}

const corrupt = (c: Record<string, number>) => c['dockward_events_total{event=spool.corrupt}'] ?? 0;
const dropped = (c: Record<string, number>) => c['dockward_documents_total{outcome=dropped}'] ?? 0;

describe('DiskSpool: damaged segments cost only the damaged records, and reading never throws', () => {
  it('a CRC error in record 2 of 3: records 1 and 3 are delivered, the damage is said and /health is degraded', async () => {
    const b = Buffer.concat([good(1), good(2), good(3)]);
    b[good(1).length + 10] ^= 1;
    const r = await replay([b]);
    // before: ids 1 only, "the rest of this segment is skipped"
    assert.deepEqual(r.ids, ['id1', 'id3']);
    assert.equal(corrupt(r.counts), 1);
    assert.match(r.lines.join(''), /0000000000000001\.seg at offset \d+: checksum mismatch/);
    const h = r.t.health.list();
    assert.equal(h.length, 1);
    assert.match(h[0].reason, /1 bad spool record\(s\) skipped, the latest in .*0000000000000001\.seg/);
  });

  it('random garbage between records: the reader scans to the next record that checks out', async () => {
    const r = await replay([Buffer.concat([good(1), randomBytes(5000), good(2), good(3)])]);
    assert.deepEqual(r.ids, ['id1', 'id2', 'id3']);
    assert.equal(corrupt(r.counts), 1);
  });

  it('16 MiB of garbage before a good record: found within a bounded time', async () => {
    const r = await replay([Buffer.concat([randomBytes(16 << 20), good(1)])]);
    assert.deepEqual(r.ids, ['id1']);
    assert.ok(r.ms < 5000, `scan took ${r.ms} ms`);
  });

  for (const [what, bad] of [
    ['a CRC-valid record without "\\n"', rec('x')],
    ['a header that is not JSON', rec('{not json\n{}')],
    ['a header that is not an array', rec('{"a":1}\n{}')],
    ['a header of the wrong types', rec('[1,2]\n{}')],
    ['a newline inside the document (would split the bulk body)', rec('["logs-x","x"]\n{}\n{"index":{}}')],
  ] as const) {
    it(`${what}: that record alone is skipped and counted as dropped`, async () => {
      // before: take() threw, the sink's worker rejection was unhandled and the process exited
      const r = await replay([Buffer.concat([good(1), bad, good(3)])]);
      assert.deepEqual(r.ids, ['id1', 'id3']);
      assert.equal(corrupt(r.counts), 1);
      assert.equal(dropped(r.counts), 1);
      assert.ok(r.t.health.degraded);
    });
  }

  it('a torn tail (a crash mid-write): the whole records are delivered, a warning, /health stays ok', async () => {
    const r = await replay([Buffer.concat([good(1), good(2), good(3).subarray(0, 12)])]);
    assert.deepEqual(r.ids, ['id1', 'id2']);
    assert.equal(corrupt(r.counts), 1);
    assert.match(r.lines.join(''), /"level":"warn".*torn by a crash|torn by a crash.*"level":"warn"/);
    assert.equal(r.t.health.degraded, false);
  });

  it('an empty segment is nothing to say', async () => {
    const r = await replay([Buffer.alloc(0), good(1)]);
    assert.deepEqual(r.ids, ['id1']);
    assert.equal(corrupt(r.counts), 0);
  });

  it('a directory named like a segment is skipped; the segments around it are read and new ones do not collide', async () => {
    const r = await replay([good(1), 'dir', good(3)]);
    assert.deepEqual(r.ids, ['id1', 'id3']);
    assert.equal(r.counts['dockward_events_total{event=spool.segment_skipped}'], 1);
    assert.ok(r.t.health.list().some((h) => /0000000000000002\.seg skipped: a directory/.test(h.reason)));
    assert.ok(readdirSync(r.dir).includes('0000000000000002.seg'), 'left in place');
  });

  it('a FIFO or a symlink named like a segment is skipped without blocking or following it', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-bad-'));
    writeFileSync(join(dir, '0000000000000001.seg'), good(1));
    execFileSync('mkfifo', [join(dir, '0000000000000002.seg')]);
    writeFileSync(join(dir, 'elsewhere'), good(9));
    symlinkSync(join(dir, 'elsewhere'), join(dir, '0000000000000003.seg'));
    const t = new Telemetry(winston.createLogger({ silent: true }));
    const s = new DiskSpool(dir, spoolConfig.parse({}), t);
    s.close();
    assert.deepEqual((await s.take(100, 1 << 20, 0)).map((q) => q.env.id), ['id1']);
    assert.equal((await t.snapshot())['dockward_events_total{event=spool.segment_skipped}'], 2);
    s.dispose();
  });

  it('many bad records: each is counted, the log says the first few and one summary', async () => {
    const r = await replay([Buffer.concat([good(1), ...Array.from({ length: 50 }, () => rec('x')), good(2)])]);
    assert.deepEqual(r.ids, ['id1', 'id2']);
    assert.equal(dropped(r.counts), 50);
    const said = r.lines.filter((l) => l.includes('spool.corrupt'));
    assert.equal(said.length, 4, said.join('\n'));
    assert.match(said[3], /50 bad records or regions in all/);
  });

  it('damage in this run\'s own tail: no record after it gets a wrong outcome, and later records are acknowledged', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'spool-bad-'));
    const s = new DiskSpool(dir, spoolConfig.parse({ segment_bytes: 1 << 20 }), new Telemetry(winston.createLogger({ silent: true })));
    const outcomes: string[] = [];
    const push = (id: string) => s.push({ index: 'logs-x', id, doc: { id }, ack: { done: (o: Outcome) => outcomes.push(`${id}:${o}`) } });
    ['a', 'b', 'c'].forEach(push);
    await s.take(0, 0, 0); // written
    // flip one byte of record b on disk
    const recLen = 8 + Buffer.byteLength(JSON.stringify(['logs-x', 'a']) + '\n' + JSON.stringify({ id: 'a' }));
    const fd = openSync(join(dir, '0000000000000001.seg'), 'r+');
    writeSync(fd, Buffer.from([0xff]), 0, 1, recLen + 12);
    closeSync(fd);
    const got = await s.take(10, 1 << 20, 0);
    assert.deepEqual(got.map((q) => q.env.id), ['a', 'c']);
    got.forEach((q) => q.env.ack!.done('acked'));
    // c's token cannot be matched any more: no outcome (its source re-reads it), never b's
    assert.deepEqual(outcomes, ['a:acked']);
    push('d');
    const next = await s.take(10, 1 << 20, 0);
    assert.deepEqual(next.map((q) => q.env.id), ['d']);
    next[0].env.ack!.done('acked');
    assert.deepEqual(outcomes, ['a:acked', 'd:acked']);
    s.dispose();
  });
});
