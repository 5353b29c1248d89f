import type { Config } from '../config/schema';
import type { Collector, CollectorContext } from './collector';
import { EventsCollector } from './events';
import { LogsCollector } from './logs';

type CollectorsConfig = Config['collectors'];

/** Every collector by name: adding one is a new file and a line here. */
const REGISTRY: { [K in keyof CollectorsConfig]: (ctx: CollectorContext, cfg: CollectorsConfig[K]) => Collector } = {
  logs: (ctx, cfg) => new LogsCollector(ctx, cfg),
  events: (ctx, cfg) => new EventsCollector(ctx, cfg),
};

export function buildCollectors(cfg: CollectorsConfig, ctx: CollectorContext): Collector[] {
  return (Object.keys(REGISTRY) as Array<keyof CollectorsConfig>)
    .filter((name) => cfg[name].enabled)
    .map((name) => (REGISTRY[name] as (c: CollectorContext, x: unknown) => Collector)(ctx, cfg[name]));
}
