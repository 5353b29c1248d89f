import { z } from 'zod';

/** An Elasticsearch-style retention period ("30d", "12h"); ILM and data-stream lifecycle both read it. */
const period = z.string().regex(/^\d+[smhd]$/, 'a period such as 30d, 36h, 90m or 30s');

/** `setup.kibana`: where `dockward setup --dashboards` and the Basic-licence alerting rules go. */
export const kibanaConfig = z
  .object({
    url: z.string().regex(/^https?:\/\/[^/]+/, 'expected http(s)://host:port').optional(),
    username: z.string().optional(),
    password: z.string().optional(),
    api_key: z.string().optional(),
    /** A Kibana space id; objects go to /s/<space>/… (default space when unset). */
    space: z.string().regex(/^[a-z0-9_-]+$/, 'a space id: lowercase letters, digits, "_" and "-"').optional(),
    ssl: z
      .object({ certificate_authorities: z.array(z.string()).default([]), verification_mode: z.enum(['full', 'certificate', 'none']).default('full') })
      .strict()
      .prefault({}),
  })
  .strict()
  .prefault({})
  .superRefine((v, ctx) => {
    if ((v.username === undefined) !== (v.password === undefined)) ctx.addIssue({ code: 'custom', path: ['username'], message: 'username and password go together' });
  });
export type KibanaConfig = z.output<typeof kibanaConfig>;

/** `setup.retention`: how long each stream family is kept, and by which mechanism. */
export const retentionConfig = z
  .object({
    mode: z.enum(['ilm', 'dsl']).default('ilm'),
    logs: period.default('30d'),
    stats: period.default('14d'),
    alerts: period.default('365d'),
    config: period.default('365d'),
    audit: period.default('365d'),
  })
  .strict()
  .prefault({});
export type RetentionConfig = z.output<typeof retentionConfig>;

/** `setup.watchers`: schedules, thresholds and where watches (or their Basic-licence rules) report. */
export const watchersConfig = z
  .object({
    interval: period.default('1m'),
    throttle: period.default('15m'),
    /** Alerts on one container within `burst_window` that make a burst. */
    burst_threshold: z.number().int().positive().default(5),
    burst_window: period.default('10m'),
    /** A host whose last heartbeat is older than this has stopped shipping. */
    heartbeat_stale: period.default('3m'),
    /** A data stream (or index) that receives one document per firing; none when unset. */
    index: z.string().optional(),
    /** POSTed the watch's payload as JSON (Watcher only: Kibana's webhook connector needs Gold). */
    webhook: z.string().regex(/^https?:\/\/[^/]+/, 'expected http(s)://host[:port]/path').optional(),
  })
  .strict()
  .prefault({});
export type WatchersConfig = z.output<typeof watchersConfig>;

/** What the asset steps read from the configuration (`SetupContext.options`); defaults when absent. */
export interface AssetOptions {
  namespace?: string;
  kibana: KibanaConfig;
  retention: RetentionConfig;
  watchers: WatchersConfig;
}

export function defaultAssetOptions(over: Partial<AssetOptions> = {}): AssetOptions {
  return { kibana: kibanaConfig.parse({}), retention: retentionConfig.parse({}), watchers: watchersConfig.parse({}), ...over };
}
