import { z } from 'zod';
import { duration } from '../config/units';
import { baseFields } from '../enrich/ecs';
import { deterministicId, streamName } from '../ship/envelope';
import type { DocumentQueue } from '../ship/queue';
import { shipperFields } from './shipper-stats';
import type { Telemetry } from './telemetry';

export const heartbeatConfig = z
  .object({
    /** A document in logs-dockward.internal-<ns> this often, so a silent shipper shows as missing beats. */
    interval: duration.prefault('30s'),
  })
  .strict()
  .prefault({});
export type HeartbeatConfig = z.output<typeof heartbeatConfig>;

const DATASET = 'dockward.internal';

/** Sends one heartbeat per interval through the same queue as every other document. */
export class Heartbeat {
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();
  private readonly base: Record<string, unknown>;
  private readonly host: string;
  /** The registry at the previous beat: the shipper fields are deltas from it. */
  private prev: { snap: Record<string, number>; at: number } = { snap: {}, at: Date.now() };

  constructor(private readonly cfg: HeartbeatConfig, private readonly queue: DocumentQueue, private readonly telemetry: Telemetry, private readonly namespace: string) {
    this.base = baseFields('logs', DATASET, namespace);
    this.host = (this.base.host as { name: string }).name;
  }

  start(): void {
    if (this.cfg.interval <= 0) return;
    void this.beat();
    this.timer = setInterval(() => void this.beat(), this.cfg.interval);
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
  }

  private async beat(): Promise<void> {
    // The slot (and so the _id) is taken before any await: beats fired an interval apart never share one.
    const at = Date.now();
    const slot = Math.floor(at / this.cfg.interval);
    const snap = await this.telemetry.snapshot();
    const shipper = shipperFields(snap, this.prev.snap, at - this.prev.at, this.queue);
    this.prev = { snap, at };
    const doc = {
      '@timestamp': new Date(at).toISOString(),
      message: 'dockward heartbeat',
      event: { kind: 'metric', category: ['host'], type: ['info'], action: 'heartbeat', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
      dockward: {
        heartbeat: {
          uptime_s: Math.round((Date.now() - this.started) / 1000),
          interval_s: this.cfg.interval / 1000,
          followed_containers: snap.dockward_followed_containers ?? 0,
          queue_documents: this.queue.size,
          queue_bytes: this.queue.byteSize,
          acked: snap['dockward_documents_total{outcome=acked}'] ?? 0,
          duplicate: snap['dockward_documents_total{outcome=duplicate}'] ?? 0,
          dead_lettered: snap['dockward_documents_total{outcome=dead_lettered}'] ?? 0,
          dropped: snap['dockward_documents_total{outcome=dropped}'] ?? 0,
        },
        shipper,
      },
      ...this.base,
    };
    this.queue.push({ index: streamName('logs', DATASET, this.namespace), id: deterministicId(this.host, 'heartbeat', slot), doc });
  }
}
