import { Client, type ClientOptions } from '@elastic/elasticsearch';
import { ElasticsearchTransport } from 'winston-elasticsearch';
import { z } from 'zod';
import { duration } from '../config/units';
import { baseFields } from '../enrich/ecs';
import { deterministicId, streamName } from '../ship/envelope';

export const esLogConfig = z
  .object({
    /** dockward's own log also into logs-dockward.internal-<ns>. */
    enabled: z.boolean().default(true),
    level: z.enum(['error', 'warn', 'info', 'debug']).default('info'),
    /** At most this many log documents wait while Elasticsearch is away; newer ones are dropped (the console keeps them). */
    buffer_limit: z.number().int().positive().default(1000),
    flush_interval: duration.prefault('2s'),
  })
  .strict()
  .prefault({});
export type EsLogConfig = z.output<typeof esLogConfig>;

const DATASET = 'dockward.internal';

/**
 * winston-elasticsearch, configured against its known failure modes:
 * - unbounded buffer while the cluster is away (#48, #90): `bufferLimit`;
 * - a whole batch re-sent when one item fails, i.e. duplicates (#165, #219): every document gets a
 *   deterministic `_id` (its content includes a per-process sequence number), so a re-send is a 409
 *   on `create`, and 409s are reported to it as success, so they never trigger another round;
 * - retries without end: a small `retryLimit`;
 * - its own errors logged through the logger it serves (a storm): they go to `onError` instead.
 * Its client is a separate one, so its traffic never competes with the shipper's retries.
 */
export function createEsLogTransport(cfg: EsLogConfig, clientOpts: ClientOptions, namespace: string, onError: (err: unknown) => void): ElasticsearchTransport {
  const client = new Client(clientOpts);
  const bulk = client.bulk.bind(client) as (p: { body?: unknown[]; operations?: unknown[] }) => Promise<{ errors?: boolean; items?: Array<Record<string, { status: number; error?: unknown }>> }>;
  (client as unknown as { bulk: typeof bulk }).bulk = async (params) => {
    const ops = (params.body ?? params.operations ?? []) as Array<Record<string, Record<string, unknown>>>;
    for (let i = 0; i + 1 < ops.length; i += 2) {
      const action = ops[i].create ?? ops[i].index;
      if (action) action._id = deterministicId(JSON.stringify(ops[i + 1]));
      // The library keeps its retry counter in the action line; Elasticsearch must not see it.
      delete (ops[i] as Record<string, unknown>).attempts;
    }
    const res = await bulk(params);
    if (res.errors && res.items) {
      for (const item of res.items) {
        const r = Object.values(item)[0];
        if (r.status === 409) delete r.error;
      }
      res.errors = res.items.some((item) => Object.values(item)[0].error !== undefined);
    }
    return res;
  };
  const base = baseFields('logs', DATASET, namespace);
  let seq = 0;
  const transport = new ElasticsearchTransport(({
    level: cfg.level,
    client,
    dataStream: true,
    index: streamName('logs', DATASET, namespace),
    ensureIndexTemplate: false,
    buffering: true,
    bufferLimit: cfg.buffer_limit,
    flushInterval: cfg.flush_interval,
    retryLimit: 5,
    internalLogger: (...args: unknown[]) => onError(args),
    transformer: ({ message, level, meta }) => {
      const m = (meta ?? {}) as { event?: { action?: string }; container?: unknown; [k: string]: unknown };
      const { event, container, timestamp: _t, ...rest } = m;
      return {
        // The console format's short clock time is not a date: stamp here.
        '@timestamp': new Date().toISOString(),
        message,
        log: { level },
        event: { kind: 'event', dataset: DATASET, module: 'dockward', action: event?.action, sequence: ++seq, created: new Date().toISOString() },
        ...(container ? { container } : {}),
        ...(Object.keys(rest).length ? { labels: flattenForLabels(rest) } : {}),
        ...base,
        agent: { ...(base.agent as object), ephemeral_id: `${process.pid}-${startedAt}` },
      };
    },
    // internalLogger is honoured by the library but missing from its type definitions.
  }) as ConstructorParameters<typeof ElasticsearchTransport>[0]);
  transport.on('error', onError);
  transport.on('warning', onError);
  return transport;
}

const startedAt = Date.now();

/** ECS `labels` are flat keyword pairs. */
function flattenForLabels(obj: Record<string, unknown>, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  for (const [k, v] of Object.entries(obj)) {
    const key = prefix ? `${prefix}_${k}` : k;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenForLabels(v as Record<string, unknown>, key, out);
    else if (v !== undefined) out[key] = typeof v === 'string' ? v.slice(0, 1024) : JSON.stringify(v).slice(0, 1024);
  }
  return out;
}
