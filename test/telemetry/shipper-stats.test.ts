import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import winston from 'winston';
import { BoundedQueue } from '../../src/ship/queue';
import { DiskSpool, spoolConfig } from '../../src/ship/spool';
import { READ_SOURCES, SHIPPER_FIELDS, shipperFields } from '../../src/telemetry/shipper-stats';
import { Telemetry } from '../../src/telemetry/telemetry';

const quiet = () => new Telemetry(winston.createLogger({ silent: true }));
type Fields = { read: { documents: number; log_lines: number; engine_events: number; sources: Record<string, number> }; output: Record<string, number>; queue: { documents: number; bytes: number }; spool?: { bytes: number; records: number; age_s: number }; lag: { log_s: number; unacked_s: number }; interval_s: number };

/** The heartbeat's shipper figures from the real Telemetry registry (no Elasticsearch needed). */
describe('heartbeat shipper fields (dockward.shipper.*)', () => {
  it('are deltas of the counters /metrics exposes since the previous beat, per source and per outcome', async () => {
    const t = quiet();
    const queue = new BoundedQueue(100, 1 << 20);
    for (let i = 0; i < 3; i++) t.countRead('logs-dockward.container-prod');
    t.countRead('logs-dockward.event-prod');
    t.countRead('metrics-dockward.stats-prod');
    // The hot-path counts (plain numbers until the registry is read) beside a direct inc.
    t.countLine('stdout');
    t.linesRead.inc({ stream: 'stdout' });
    t.countLine('stderr');
    t.engineEvents.inc({ type: 'container' });
    t.documents.inc({ outcome: 'acked' }, 4);
    t.documents.inc({ outcome: 'duplicate' });
    t.retries.inc({ reason: '429' }, 2);
    t.retries.inc({ reason: 'connection' }, 5);
    const first = await t.snapshot();
    const a = shipperFields(first, {}, 30_000, queue) as Fields;
    assert.deepEqual(a.read, { documents: 5, log_lines: 3, engine_events: 1, sources: { container: 3, event: 1, process: 0, network: 0, stats: 1, file: 0, config: 0, posture: 0 } });
    assert.deepEqual(a.output, { acked: 4, duplicate: 1, dead_lettered: 0, dropped: 0, retried: 7 });
    assert.equal(a.interval_s, 30);

    t.countRead('logs-dockward.container-prod');
    t.countLine('stdout');
    t.documents.inc({ outcome: 'dead_lettered' });
    const second = await t.snapshot();
    const b = shipperFields(second, first, 1_500, queue) as Fields;
    assert.equal(b.read.log_lines, 1, 'counted once, not again at each read of the registry');
    assert.equal(second['dockward_log_lines_read_total{stream=stdout}'], 3);
    assert.equal(b.read.documents, 1, 'only what happened since the previous beat');
    assert.equal(b.read.sources.container, 1);
    assert.equal(b.output.acked, 0);
    assert.equal(b.output.dead_lettered, 1);
    assert.equal(b.output.retried, 0);
    assert.equal(b.interval_s, 1.5);
    assert.equal(b.spool, undefined, 'a memory queue has no spool');
  });

  it('lag: the worst container\'s log lag and the age of the oldest unanswered bulk, read at the beat', async () => {
    const t = quiet();
    t.logLag.set({ container: 'a' }, 2);
    t.logLag.set({ container: 'b' }, 7.25);
    let unacked = 0;
    t.unackedSeconds = () => unacked;
    const q = new BoundedQueue(100, 1 << 20);
    assert.deepEqual((shipperFields(await t.snapshot(), {}, 1000, q) as Fields).lag, { log_s: 7.25, unacked_s: 0 });
    unacked = 12.5;
    assert.deepEqual((shipperFields(await t.snapshot(), {}, 1000, q) as Fields).lag, { log_s: 7.25, unacked_s: 12.5 });
  });

  it('report the disk spool\'s bytes and waiting records, and the queue depth', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dockward-spool-'));
    const t = quiet();
    const spool = new DiskSpool(dir, spoolConfig.parse({}), t);
    try {
      for (let i = 0; i < 4; i++) spool.push({ index: 'logs-dockward.container-x', id: `d${i}`, doc: { message: 'x'.repeat(100) } });
      await new Promise((r) => setImmediate(r)); // the spool writes once per event-loop turn
      const f = shipperFields(await t.snapshot(), {}, 1000, spool) as Fields;
      assert.equal(f.spool!.records, 4);
      assert.ok(f.spool!.bytes > 400, `bytes on disk: ${f.spool!.bytes}`);
      assert.deepEqual(f.queue, { documents: 4, bytes: f.spool!.bytes });
      const taken = await spool.take(10, 1 << 20, 0);
      assert.equal(taken.length, 4);
      assert.equal((shipperFields(await t.snapshot(), {}, 1000, spool) as Fields).spool!.records, 0, 'taken by the sink: no longer waiting');
    } finally {
      spool.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every field is declared with a numeric mapping, one per source', () => {
    for (const s of READ_SOURCES) assert.deepEqual(SHIPPER_FIELDS[`dockward.shipper.read.sources.${s}`], { type: 'long' });
    for (const m of Object.values(SHIPPER_FIELDS)) assert.ok(['long', 'float'].includes(String(m.type)));
  });
});
