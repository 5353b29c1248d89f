import { z } from 'zod';
import type { EngineEvent } from '../docker/event-stream';
import { baseFields } from '../enrich/ecs';
import { AckTracker } from '../ship/ack-tracker';
import { deterministicId, streamName } from '../ship/envelope';
import type { Collector, CollectorContext } from './collector';

export const eventsConfig = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * Actions not shipped. `top` by default: the engine emits one for every `top` call, which the
     * processes collector makes for every container every few seconds.
     */
    exclude_actions: z.array(z.string()).default(['top']),
  })
  .strict()
  .prefault({});
export type EventsConfig = z.output<typeof eventsConfig>;

const DATASET = 'dockward.event';
const CURSOR_KEY = 'events';

/** ECS categorisation of engine actions; anything else is a configuration change. */
const CATEGORY: Record<string, [string, string]> = {
  'container/create': ['configuration', 'creation'],
  'container/destroy': ['configuration', 'deletion'],
  'container/rename': ['configuration', 'change'],
  'container/update': ['configuration', 'change'],
  'container/start': ['process', 'start'],
  'container/restart': ['process', 'start'],
  'container/die': ['process', 'end'],
  'container/stop': ['process', 'end'],
  'container/kill': ['process', 'end'],
  'container/oom': ['process', 'end'],
  'container/pause': ['process', 'change'],
  'container/unpause': ['process', 'change'],
  'container/exec_create': ['process', 'info'],
  'container/exec_start': ['process', 'start'],
  'container/exec_die': ['process', 'end'],
  'container/attach': ['session', 'start'],
  'container/archive-path': ['file', 'access'],
  'container/extract-to-dir': ['file', 'creation'],
  'network/connect': ['network', 'connection'],
  'network/disconnect': ['network', 'end'],
  'image/pull': ['package', 'installation'],
  'image/import': ['package', 'installation'],
  'image/load': ['package', 'installation'],
  'image/delete': ['package', 'deletion'],
};

/**
 * Ships the engine's event stream to `logs-dockward.event-<ns>`: `_id` from (timeNano, type, actor,
 * action), so the overlap of a resume is a 409. Its cursor (the newest acknowledged timeNano) is
 * the `since` of the shared event stream when dockward starts again.
 */
export class EventsCollector implements Collector {
  readonly name = 'events';
  private readonly base: Record<string, unknown>;
  private readonly index: string;
  private readonly tracker: AckTracker<string>;
  private readonly onEvent = (ev: EngineEvent) => {
    if (!this.exclude.has(ev.Action.split(':')[0])) this.ship(ev);
  };
  private readonly exclude: Set<string>;

  constructor(private readonly ctx: CollectorContext, cfg: EventsConfig) {
    this.exclude = new Set(cfg.exclude_actions);
    this.base = baseFields('logs', DATASET, ctx.namespace);
    this.index = streamName('logs', DATASET, ctx.namespace);
    this.tracker = new AckTracker<string>((nano) => ctx.cursors.set(CURSOR_KEY, nano));
  }

  eventsSince(): bigint | undefined {
    const saved = this.ctx.cursors.get<string>(CURSOR_KEY);
    return saved === undefined ? undefined : BigInt(saved);
  }

  async start(): Promise<void> {
    this.ctx.events.on('event', this.onEvent);
  }

  async stop(): Promise<void> {
    this.ctx.events.off('event', this.onEvent);
  }

  private ship(ev: EngineEvent): void {
    const attrs = ev.Actor.Attributes ?? {};
    const colon = ev.Action.indexOf(':');
    const action = colon >= 0 ? ev.Action.slice(0, colon) : ev.Action;
    const [category, type] = CATEGORY[`${ev.Type}/${action}`] ?? ['configuration', 'info'];
    const ms = Number(ev.nano / 1_000_000n);
    const nanoText = ev.nano.toString();
    const subject = attrs.name ?? ev.Actor.ID.slice(0, 12);
    const doc: Record<string, unknown> = {
      '@timestamp': new Date(ms).toISOString(),
      message: `${ev.Type} ${ev.Action} ${subject}`,
      event: { kind: 'event', category: [category], type: [type], action, dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
      docker: {
        event: { type: ev.Type, action: ev.Action, scope: ev.scope, time_nano: nanoText, actor: { id: ev.Actor.ID, attributes: attrs } },
      },
      ...this.base,
    };
    if (ev.Type === 'container') {
      doc.container = { id: ev.Actor.ID, name: attrs.name, image: attrs.image ? { name: attrs.image } : undefined, runtime: 'docker' };
      if (action === 'die' && attrs.exitCode !== undefined) doc.process = { exit_code: Number(attrs.exitCode) };
    }
    this.ctx.output.send({
      index: this.index,
      id: deterministicId(nanoText, ev.Type, ev.Actor.ID, ev.Action),
      doc,
      ack: this.tracker.issue(nanoText),
    });
  }
}
