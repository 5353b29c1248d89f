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

/** Every collector by name: adding one is a new file and a line here. */
const REGISTRY: { [K in keyof CollectorsConfig]: (ctx: CollectorContext, cfg: CollectorsConfig[K]) => Collector } = {
  logs: (ctx, cfg) => new LogsCollector(ctx, cfg),
  events: (ctx, cfg) => new EventsCollector(ctx, cfg),
  processes: (ctx, cfg) => new ProcessesCollector(ctx, cfg),
  exec: (ctx, cfg) => new ExecCollector(ctx, cfg),
  stats: (ctx, cfg) => new StatsCollector(ctx, cfg),
  drift: (ctx, cfg) => new DriftCollector(ctx, cfg),
  config: (ctx, cfg) => new ConfigSnapshotCollector(ctx, cfg),
  connections: (ctx, cfg) => new ConnectionsCollector(ctx, cfg),
  posture: (ctx, cfg) => new PostureCollector(ctx, cfg),
  kernel: (ctx, cfg) => new KernelCollector(ctx, cfg),
};

export function buildCollectors(cfg: CollectorsConfig, ctx: CollectorContext): Collector[] {
  return (Object.keys(REGISTRY) as Array<keyof CollectorsConfig>)
    .filter((name) => cfg[name].enabled)
    .map((name) => (REGISTRY[name] as (c: CollectorContext, x: unknown) => Collector)(ctx, cfg[name]));
}
