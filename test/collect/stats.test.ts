import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { computeStats, type RawStats } from '../../src/collect/stats';

function raw(cpu: number, system: number, read: string, extra: Partial<RawStats> = {}): RawStats {
  return {
    read,
    cpu_stats: { cpu_usage: { total_usage: cpu }, system_cpu_usage: system, online_cpus: 2 },
    memory_stats: { usage: 100 * 2 ** 20, limit: 1000 * 2 ** 20, stats: { inactive_file: 20 * 2 ** 20 } },
    networks: { eth0: { rx_bytes: 1000, tx_bytes: 500 }, eth1: { rx_bytes: 24, tx_bytes: 12 } },
    blkio_stats: { io_service_bytes_recursive: [{ op: 'read', value: 4096 }, { op: 'write', value: 8192 }, { op: 'Read', value: 4096 }] },
    pids_stats: { current: 3 },
    ...extra,
  };
}

describe('computeStats (docker stats / Metricbeat arithmetic)', () => {
  it('needs two samples for CPU and rates, and has memory from the first', () => {
    const first = computeStats(raw(1e9, 100e9, '2026-11-28T10:00:00Z'), undefined);
    assert.equal(first.cpuPct, undefined);
    assert.equal(first.memUsage, 80 * 2 ** 20, 'usage minus inactive_file');
    assert.equal(first.memPct, 0.08);
    assert.equal(first.sample.rx, 1024);
    assert.equal(first.sample.tx, 512);
    assert.deepEqual([first.read, first.write, first.pids], [8192, 8192, 3]);
  });

  it('gives CPU % of one CPU and a 0–1 value over all CPUs', () => {
    const a = computeStats(raw(1e9, 100e9, '2026-11-28T10:00:00Z'), undefined);
    // 10 s: the container used 10 s of CPU while the host counted 20 s (2 CPUs): one CPU busy.
    const b = computeStats(raw(11e9, 120e9, '2026-11-28T10:00:10Z', { networks: { eth0: { rx_bytes: 11024, tx_bytes: 512 } } }), a.sample);
    assert.equal(b.cpuNorm, 0.5);
    assert.equal(b.cpuPct, 100);
    assert.equal(b.rxRate, 1000);
    assert.equal(b.txRate, 0);
  });

  it('uses cgroup v1 total_inactive_file when that is what the engine reports', () => {
    const s = computeStats(raw(1, 1, '2026-11-28T10:00:00Z', { memory_stats: { usage: 50, limit: 100, stats: { total_inactive_file: 10 } } }), undefined);
    assert.equal(s.memUsage, 40);
  });
});
