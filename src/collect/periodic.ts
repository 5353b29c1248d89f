import { createHash } from 'node:crypto';
import cron, { type ScheduledTask } from 'node-cron';
import { z } from 'zod';
import { duration } from '../config/units';
import { baseFields } from '../enrich/ecs';
import type { EngineEvent } from '../docker/event-stream';
import type { ContainerMeta } from '../enrich/metadata';
import { streamName } from '../ship/envelope';
import type { Collector, CollectorContext } from './collector';

/** A periodic collector's config: its schedule, plus its own keys. */
export function periodicConfig<T extends z.ZodRawShape>(defaultCron: string, extra: T) {
  return z
    .object({ ...scheduleConfig(defaultCron), ...extra })
    .strict()
    .prefault({} as never); // every key has a default; the generic shape hides that from the types
}

function scheduleConfig(defaultCron: string) {
  return {
    enabled: z.boolean().default(true),
    /** node-cron expression; six fields (with seconds) or five. */
    schedule: z
      .string()
      .refine((v) => cron.validate(v), 'not a valid cron expression (six fields with seconds, or five)')
      .default(defaultCron),
    /** Polls of one tick are spread over this long, so a tick is not one burst on the engine. */
    stagger: duration.prefault('1s'),
  };
}

/**
 * A collector that polls every running container on a node-cron schedule. Per tick: one list of
 * running containers, then one poll per container, each at its own offset (hash of the id) inside
 * `stagger`. A container whose previous poll is still running is skipped this tick, so one slow
 * container never delays the others; a container that vanished mid-poll (404, 409) is not an error.
 */
export abstract class PeriodicCollector<S> implements Collector {
  abstract readonly name: string;
  /** What the collector remembers per running container; dropped when the container is gone. */
  protected readonly state = new Map<string, S>();
  protected readonly base: Record<string, unknown>;
  protected readonly index: string;
  private task: ScheduledTask | undefined;
  private readonly busy = new Set<string>();
  private readonly timers = new Set<NodeJS.Timeout>();
  protected running = false;

  constructor(
    protected readonly ctx: CollectorContext,
    protected readonly periodic: { schedule: string; stagger: number },
    type: 'logs' | 'metrics',
    dataset: string,
  ) {
    this.base = baseFields(type, dataset, ctx.namespace);
    this.index = streamName(type, dataset, ctx.namespace);
  }

  /** Polls one container; documents go to ctx.output. */
  protected abstract poll(meta: ContainerMeta): Promise<void>;

  /**
   * For collectors that also judge a container when the engine says something happened to it
   * (create, start…): subscribed while running, and such a collector runs one round at start
   * rather than waiting for its schedule.
   */
  protected onEngineEvent?(ev: EngineEvent): void;
  private readonly engineListener = (ev: EngineEvent) => this.onEngineEvent?.(ev);

  async start(): Promise<void> {
    this.running = true;
    this.task = cron.schedule(this.periodic.schedule, () => this.tick(), { noOverlap: true, name: `dockward-${this.name}` });
    if (this.onEngineEvent) {
      this.ctx.events.on('event', this.engineListener);
      void this.tick();
    }
  }

  async stop(): Promise<void> {
    this.ctx.events.off('event', this.engineListener);
    this.running = false;
    await this.task?.stop();
    for (const t of this.timers) clearTimeout(t);
  }

  /** One round now (also used at start-up and by tests). */
  async tick(): Promise<void> {
    if (!this.running) return;
    let list;
    try {
      list = await this.ctx.docker.listContainers({ filters: { status: ['running'] } });
    } catch (err) {
      this.ctx.telemetry.event(`${this.name}.list.failed`, 'warn', `${this.name}: cannot list containers: ${(err as Error).message}`);
      return;
    }
    const running = new Set(list.map((c) => c.Id));
    for (const id of this.state.keys()) if (!running.has(id)) this.state.delete(id);
    await Promise.all(list.map((c) => this.delayed(c.Id)));
  }

  private delayed(id: string): Promise<void> {
    if (this.busy.has(id)) {
      this.ctx.telemetry.event(`${this.name}.poll.skipped`, 'debug', `${this.name}: previous poll of ${id.slice(0, 12)} still running`);
      return Promise.resolve();
    }
    this.busy.add(id);
    const offset = this.periodic.stagger > 0 ? createHash('sha1').update(id).digest().readUInt32BE(0) % this.periodic.stagger : 0;
    return new Promise<void>((resolve) => {
      const t = setTimeout(() => {
        this.timers.delete(t);
        void this.pollSafely(id).finally(() => {
          this.busy.delete(id);
          resolve();
        });
      }, offset);
      this.timers.add(t);
    });
  }

  private async pollSafely(id: string): Promise<void> {
    if (!this.running) return;
    try {
      const meta = await this.ctx.metadata.get(id);
      if (meta) await this.poll(meta);
    } catch (err) {
      const status = (err as { statusCode?: number }).statusCode;
      if (status === 404 || status === 409) return; // gone or stopped between list and poll
      this.ctx.telemetry.event(`${this.name}.poll.failed`, 'warn', `${this.name} of ${id.slice(0, 12)}: ${(err as Error).message}`, { container: { id } });
    }
  }
}
