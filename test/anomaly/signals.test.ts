import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import winston from 'winston';
import { AnomalyDetector, anomalyConfig } from '../../src/anomaly/detector';
import { SignalAccumulator, SIGNALS, SIGNAL_FLOOR, SIGNAL_LABEL } from '../../src/anomaly/signals';
import { CUSTOM_FIELDS } from '../../src/setup/mappings';
import { Telemetry } from '../../src/telemetry/telemetry';
import type { Envelope } from '../../src/ship/envelope';

const t0 = Date.parse('2026-01-01T00:00:00Z');
const stats = (i: number, id = 'c1'): Record<string, unknown> => ({
  '@timestamp': new Date(t0 + i * 10_000).toISOString(),
  data_stream: { dataset: 'dockward.stats' },
  container: { id, name: 'web', image: { name: 'nginx:1' } },
  docker: { cpu: { pct: 1 }, memory: { usage: { bytes: 64 * 2 ** 20 } }, pids: 3 },
});
/** a drift document as src/collect/drift.ts writes it */
const file = (type: 'creation' | 'change' | 'deletion', path: string, baseline = false, id = 'c1'): Record<string, unknown> => ({
  '@timestamp': new Date(t0).toISOString(),
  data_stream: { dataset: 'dockward.file' },
  event: { kind: 'event', category: ['file'], type: [type], action: `file_${type}`, dataset: 'dockward.file' },
  file: { path },
  container: { id, name: 'web', image: { name: 'nginx:1' } },
  dockward: { drift: { baseline: baseline || undefined } },
});

describe('anomaly signals: new files', () => {
  it('new_files is a signal with a label and a floor, so its fields are mapped', () => {
    assert.ok(SIGNALS.includes('new_files'));
    assert.equal(SIGNAL_LABEL.new_files, 'new files per minute');
    assert.ok(SIGNAL_FLOOR.new_files > 0);
    // src/setup/mappings.ts builds the per-signal fields from SIGNALS
    for (const f of ['score', 'value', 'baseline', 'cad']) assert.deepEqual(CUSTOM_FIELDS[`dockward.anomaly.signals.new_files.${f}`], { type: 'float' });
    for (const f of ['below', 'extreme']) assert.deepEqual(CUSTOM_FIELDS[`dockward.anomaly.signals.new_files.${f}`], { type: 'boolean' });
  });

  it('counts created files per minute since the previous stats document, not changes, deletions or the first scan', () => {
    const a = new SignalAccumulator();
    assert.equal(a.fromStats(stats(0)), undefined);
    for (let k = 0; k < 5; k++) a.countFile(file('creation', `/tmp/old${k}`, true));
    assert.equal(a.fromStats(stats(1))?.new_files, 0, 'the baseline scan is not new files');
    a.countFile(file('creation', '/tmp/x'));
    a.countFile(file('creation', '/tmp/y'));
    a.countFile(file('change', '/etc/hosts'));
    a.countFile(file('deletion', '/tmp/old1'));
    // two files in a 10 s interval: 12 a minute
    assert.equal(a.fromStats(stats(2))?.new_files, 12);
    assert.equal(a.fromStats(stats(3))?.new_files, 0, 'counters restart each interval');
  });

  it('the detector observes drift documents: a burst of new files in a quiet container is named', () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-anomaly-files-'));
    try {
      const out: Envelope[] = [];
      const raised: Envelope[] = [];
      const cfg = anomalyConfig.parse({ model: { warmup: 20 }, sustain: 1 });
      const d = new AnomalyDetector(cfg, dir, 'test', (e) => out.push(e), (e) => raised.push(e), new Telemetry(winston.createLogger({ silent: true })));
      const env = (doc: Record<string, unknown>): Envelope => ({ index: 'x', id: String(out.length), doc });
      // one file a minute, as a drift scan every 6th interval would report it
      for (let i = 0; i < 120; i++) {
        if (i % 6 === 0) d.observe(env(file('creation', `/var/cache/f${i}`)));
        d.observe(env(stats(i)));
      }
      const calm = out.slice(30).map((e) => (e.doc.dockward as { anomaly: { score: number } }).anomaly.score);
      assert.ok(Math.max(...calm) < cfg.threshold, `steady files score at most ${Math.max(...calm)}`);
      for (let k = 0; k < 200; k++) d.observe(env(file('creation', `/tmp/payload${k}`)));
      d.observe(env(stats(120)));
      const a = (out[out.length - 1].doc.dockward as { anomaly: { score: number; top: string; explanation: string } }).anomaly;
      assert.equal(a.top, 'new_files');
      assert.ok(a.score >= 90, `a burst of 200 new files scores ${a.score}`);
      assert.match(a.explanation, /new files per minute at 1200/);
      assert.equal(raised.length, 1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('anomaly signals: process starts', () => {
  const proc = (provider: string, flags: Record<string, boolean> = {}): Record<string, unknown> => ({
    '@timestamp': new Date(t0).toISOString(),
    data_stream: { dataset: 'dockward.process' },
    event: { kind: 'event', category: ['process'], type: ['start'], provider, dataset: 'dockward.process' },
    container: { id: 'c1' },
    dockward: { process: flags },
  });

  it('counts starts and exec sessions, not the first snapshot or a kernel resync (polling covered those)', () => {
    const a = new SignalAccumulator();
    a.fromStats(stats(0));
    a.countProcess(proc('kernel'));
    a.countProcess(proc('poll'));
    a.countProcess(proc('exec'));
    a.countProcess(proc('poll', { first_snapshot: true }));
    a.countProcess(proc('kernel', { resync: true }));
    a.countProcess({ ...proc('kernel'), event: { type: ['end'], provider: 'kernel' } });
    const v = a.fromStats(stats(1));
    // in the first 10 s interval (none before it): two starts and one exec session, per minute
    assert.equal(v?.process_starts, 12);
    assert.equal(v?.exec_sessions, 6);
  });

  it('a start a second, some read an interval late, keeps its rate (CI at cfdb1a7 read 88 a minute); a burst still stands out', () => {
    const a = new SignalAccumulator();
    a.fromStats(stats(0));
    const rates: number[] = [];
    // 10 starts per 10 s interval; the third interval's last start is counted in the fourth
    for (const [i, n] of [[1, 10], [2, 10], [3, 9], [4, 11], [5, 10], [6, 40]] as const) {
      for (let k = 0; k < n; k++) a.countProcess(proc('kernel'));
      rates.push(a.fromStats(stats(i))!.process_starts!);
    }
    assert.deepEqual(rates.slice(0, 5), [60, 60, 57, 60, 63]);
    assert.ok(rates[5] >= 150, `a burst of 40 starts in 10 s: ${rates[5]} a minute`);
  });
});

describe('anomaly signals: log lines', () => {
  const line = { '@timestamp': new Date(t0).toISOString(), data_stream: { dataset: 'dockward.container' }, stream: 'stdout', container: { id: 'c1' } };

  it('a steady stream whose lines arrive an interval late keeps its rate (two intervals together), a burst still stands out', () => {
    const a = new SignalAccumulator();
    a.fromStats(stats(0));
    const rates: number[] = [];
    // 1 line/s in 10 s intervals; the fourth interval's lines come after its stats document
    for (const [i, n] of [[1, 10], [2, 10], [3, 10], [4, 0], [5, 20], [6, 10]] as const) {
      for (let k = 0; k < n; k++) a.countLog(line);
      rates.push(a.fromStats(stats(i))!.log_lines!);
    }
    // the first interval has no interval before it: its own rate
    assert.deepEqual(rates, [60, 60, 60, 30, 60, 90]);
    for (let k = 0; k < 600; k++) a.countLog(line);
    assert.ok(a.fromStats(stats(7))!.log_lines! >= 1800, 'a burst of 600 lines in 10 s');
  });
});

describe('anomaly: a start replayed after a restart of dockward', () => {
  it('is no start-up when the saved baseline lived through it; a start after the save is', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'dw-anomaly-replay-'));
    const telemetry = new Telemetry(winston.createLogger({ silent: true }));
    const cfg = anomalyConfig.parse({ model: { warmup: 10 } });
    const env = (doc: Record<string, unknown>): Envelope => ({ index: 'x', id: 'i', doc });
    const warmOf = (e: Envelope) => (e.doc.dockward as { anomaly: { warm: boolean } }).anomaly.warm;
    try {
      const first = new AnomalyDetector(cfg, dir, 'test', () => undefined, () => undefined, telemetry);
      first.start();
      first.started('c1', t0);
      for (let i = 0; i < 20; i++) first.observe(env(stats(i)));
      await first.stop(); // saves the baselines
      const run = async (startAt: number, docFirst = false): Promise<boolean> => {
        const out: Envelope[] = [];
        const d = new AnomalyDetector(cfg, dir, 'test', (e) => out.push(e), () => undefined, telemetry);
        d.start(); // loads the saved baselines, as the pipeline does before the event stream starts
        // The replayed start and the container's first document race (CI at 3c8b6a3: the
        // document came first, the start then settled a model that had lived through it).
        if (docFirst) d.observe(env(stats(20)));
        d.started('c1', startAt); // the engine's event stream replays from the events cursor
        if (!docFirst) d.observe(env(stats(20)));
        d.observe(env(stats(21)));
        await d.stop();
        return warmOf(out[out.length - 1]);
      };
      assert.equal(await run(t0), true, 'the start the saved model already lived through');
      assert.equal(await run(t0, true), true, 'the same, replayed after the container\'s first document');
      assert.equal(await run(Date.now() + 60_000), false, 'a (re)start after the save settles again');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
