import { z } from 'zod';
import { containerFields } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import { deterministicId } from '../ship/envelope';
import type { CollectorContext } from './collector';
import { PeriodicCollector, periodicConfig } from './periodic';

export const statsConfig = periodicConfig('*/10 * * * * *', {});
export type StatsConfig = z.output<typeof statsConfig>;

const DATASET = 'dockward.stats';

/** The parts of `GET /containers/{id}/stats?stream=false&one-shot=true` that we read. */
export interface RawStats {
  read: string;
  cpu_stats: { cpu_usage: { total_usage: number; percpu_usage?: number[] }; system_cpu_usage?: number; online_cpus?: number };
  memory_stats: { usage?: number; limit?: number; stats?: Record<string, number> };
  networks?: Record<string, { rx_bytes: number; tx_bytes: number }>;
  blkio_stats?: { io_service_bytes_recursive?: Array<{ op: string; value: number }> | null };
  pids_stats?: { current?: number; limit?: number };
}

export interface StatsSample {
  readMs: number;
  cpuTotal: number;
  systemTotal: number;
  rx: number;
  tx: number;
}

/**
 * CPU % the way `docker stats` and Metricbeat compute it: the container's CPU time over the host's
 * CPU time between two samples, times the online CPUs (100 % = one CPU busy); `norm` is the same
 * over all CPUs (0–1). Memory usage excludes the page cache that can be dropped (inactive_file,
 * cgroup v2; total_inactive_file, v1), as `docker stats` does.
 */
export function computeStats(s: RawStats, prev: StatsSample | undefined) {
  const cpus = s.cpu_stats.online_cpus || s.cpu_stats.cpu_usage.percpu_usage?.length || 1;
  const sample: StatsSample = {
    readMs: Date.parse(s.read),
    cpuTotal: s.cpu_stats.cpu_usage.total_usage,
    systemTotal: s.cpu_stats.system_cpu_usage ?? 0,
    rx: 0,
    tx: 0,
  };
  for (const n of Object.values(s.networks ?? {})) {
    sample.rx += n.rx_bytes;
    sample.tx += n.tx_bytes;
  }
  let cpuPct: number | undefined;
  let cpuNorm: number | undefined;
  let rxRate: number | undefined;
  let txRate: number | undefined;
  if (prev) {
    const cpuDelta = sample.cpuTotal - prev.cpuTotal;
    const sysDelta = sample.systemTotal - prev.systemTotal;
    if (cpuDelta >= 0 && sysDelta > 0) {
      cpuNorm = cpuDelta / sysDelta;
      cpuPct = cpuNorm * cpus * 100;
    }
    const secs = (sample.readMs - prev.readMs) / 1000;
    if (secs > 0) {
      rxRate = Math.max(0, (sample.rx - prev.rx) / secs);
      txRate = Math.max(0, (sample.tx - prev.tx) / secs);
    }
  }
  const m = s.memory_stats;
  const inactive = m.stats?.inactive_file ?? m.stats?.total_inactive_file ?? 0;
  const memUsage = m.usage !== undefined ? Math.max(0, m.usage - inactive) : undefined;
  const memPct = memUsage !== undefined && m.limit ? memUsage / m.limit : undefined;
  let read = 0;
  let write = 0;
  for (const e of s.blkio_stats?.io_service_bytes_recursive ?? []) {
    if (e.op.toLowerCase() === 'read') read += e.value;
    if (e.op.toLowerCase() === 'write') write += e.value;
  }
  return { sample, cpus, cpuPct, cpuNorm, memUsage, memLimit: m.limit, memPct, rxRate, txRate, read, write, pids: s.pids_stats?.current };
}

/**
 * One stats request per container per interval (no long-lived stream per container), CPU and
 * rates from our own previous sample. Into metrics-dockward.stats-<ns>; identity: container and
 * the engine's `read` timestamp.
 */
export class StatsCollector extends PeriodicCollector<StatsSample> {
  readonly name = 'stats';

  constructor(ctx: CollectorContext, cfg: StatsConfig) {
    super(ctx, cfg, 'metrics', DATASET);
  }

  protected async poll(meta: ContainerMeta): Promise<void> {
    const raw = (await this.ctx.docker.getContainer(meta.id).stats({ stream: false, 'one-shot': true } as never)) as unknown as RawStats;
    const c = computeStats(raw, this.state.get(meta.id));
    this.state.set(meta.id, c.sample);
    this.ctx.output.send({
      index: this.index,
      id: deterministicId(meta.id, raw.read),
      doc: {
        '@timestamp': raw.read,
        event: { kind: 'metric', category: ['host'], type: ['info'], dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        container: {
          ...containerFields(meta),
          cpu: c.cpuNorm !== undefined ? { usage: round(c.cpuNorm) } : undefined,
          memory: c.memPct !== undefined ? { usage: round(c.memPct) } : undefined,
          network: { ingress: { bytes: c.sample.rx }, egress: { bytes: c.sample.tx } },
          disk: { read: { bytes: c.read }, write: { bytes: c.write } },
        },
        docker: {
          cpu: { pct: c.cpuPct !== undefined ? round(c.cpuPct) : undefined, online_cpus: c.cpus },
          memory: { usage: { bytes: c.memUsage }, limit: { bytes: c.memLimit }, pct: c.memPct !== undefined ? round(c.memPct * 100) : undefined },
          network: { rx: { bytes: c.sample.rx, rate: c.rxRate }, tx: { bytes: c.sample.tx, rate: c.txRate } },
          pids: c.pids,
        },
        ...this.base,
      },
    });
  }
}

function round(v: number): number {
  return Math.round(v * 10_000) / 10_000;
}
