import type { Config } from '../config/schema';
import type { Collector, CollectorContext } from './collector';
import { EventsCollector } from './events';
import { LogsCollector } from './logs';
import { ProcessesCollector } from './processes';
import { ExecCollector } from './exec';
import { StatsCollector } from './stats';
import { DriftCollector } from './drift';
import { ConfigSnapshotCollector } from './config-snapshot';
import { ConnectionsCollector } from './connections';
import { PostureCollector } from './posture';
import { KernelCollector } from './kernel/collector';

type CollectorsConfig = Config['collectors'];

/**
 * Every collector by name: adding one is a new file and a line here. A part that runs inside
 * another collector (audit, on the kernel collector's reader thread) returns no collector.
 */
const REGISTRY: { [K in keyof CollectorsConfig]: (ctx: CollectorContext, cfg: CollectorsConfig[K], all: CollectorsConfig) => Collector | undefined } = {
  logs: (ctx, cfg) => new LogsCollector(ctx, cfg),
  events: (ctx, cfg) => new EventsCollector(ctx, cfg),
  processes: (ctx, cfg) => new ProcessesCollector(ctx, cfg),
  exec: (ctx, cfg) => new ExecCollector(ctx, cfg),
  stats: (ctx, cfg) => new StatsCollector(ctx, cfg),
  drift: (ctx, cfg) => new DriftCollector(ctx, cfg),
  config: (ctx, cfg) => new ConfigSnapshotCollector(ctx, cfg),
  connections: (ctx, cfg) => new ConnectionsCollector(ctx, cfg),
  posture: (ctx, cfg) => new PostureCollector(ctx, cfg),
  kernel: (ctx, cfg, all) => new KernelCollector(ctx, cfg, all.audit),
  // Joined to the proc connector's execs on the kernel collector's thread: nothing runs on its own.
  audit: (ctx, cfg, all) => {
    if (cfg.enabled === true && all.kernel.enabled === false) {
      ctx.telemetry.event('audit.unavailable', 'warn', 'audit exec events UNAVAILABLE although collectors.audit.enabled is true: they need kernel process events (collectors.kernel.enabled is false)');
    }
    return undefined;
  },
};

export function buildCollectors(cfg: CollectorsConfig, ctx: CollectorContext): Collector[] {
  return (Object.keys(REGISTRY) as Array<keyof CollectorsConfig>)
    .filter((name) => cfg[name].enabled)
    .map((name) => (REGISTRY[name] as (c: CollectorContext, x: unknown, all: CollectorsConfig) => Collector | undefined)(ctx, cfg[name], cfg))
    .filter((c): c is Collector => c !== undefined);
}
