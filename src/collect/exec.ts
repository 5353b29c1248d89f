import { z } from 'zod';
import type { EngineEvent } from '../docker/event-stream';
import { baseFields, containerFields } from '../enrich/ecs';
import { deterministicId, streamName } from '../ship/envelope';
import type { Collector, CollectorContext } from './collector';

export const execConfig = z
  .object({ enabled: z.boolean().default(true) })
  .strict()
  .prefault({});
export type ExecConfig = z.output<typeof execConfig>;

const DATASET = 'dockward.process';

interface ExecInspect {
  ID: string;
  Running: boolean;
  ExitCode: number | null;
  Pid: number;
  ProcessConfig: { tty: boolean; entrypoint: string; arguments: string[]; privileged: boolean; user: string };
}

/**
 * `docker exec` sessions as process documents, from the engine's exec_start / exec_die events and
 * the exec inspect endpoint: command, tty, user, privileged, exit code. A one-second `exec -it sh`
 * is seen even though no `top` poll would catch it. Identity: container, exec id, start|end.
 */
export class ExecCollector implements Collector {
  readonly name = 'exec';
  private readonly base: Record<string, unknown>;
  private readonly index: string;
  /** Exec details seen at start, for the end document (the engine may forget a finished exec). */
  private readonly seen = new Map<string, ExecInspect>();
  private readonly onEvent = (ev: EngineEvent) => {
    if (ev.Type !== 'container') return;
    const action = ev.Action.split(':')[0];
    if (action === 'exec_start' || action === 'exec_die') void this.handle(ev, action).catch((err) =>
      this.ctx.telemetry.event('exec.failed', 'warn', `exec ${ev.Actor.Attributes?.execID ?? '?'}: ${(err as Error).message}`));
  };

  constructor(private readonly ctx: CollectorContext, _cfg: ExecConfig) {
    this.base = baseFields('logs', DATASET, ctx.namespace);
    this.index = streamName('logs', DATASET, ctx.namespace);
  }

  async start(): Promise<void> {
    this.ctx.events.on('event', this.onEvent);
  }

  async stop(): Promise<void> {
    this.ctx.events.off('event', this.onEvent);
  }

  private async handle(ev: EngineEvent, action: 'exec_start' | 'exec_die'): Promise<void> {
    const execId = ev.Actor.Attributes?.execID;
    if (!execId) return;
    let info = this.seen.get(execId);
    try {
      info = (await this.ctx.docker.getExec(execId).inspect()) as unknown as ExecInspect;
    } catch (err) {
      if ((err as { statusCode?: number }).statusCode !== 404) throw err;
    }
    const command = action === 'exec_start' ? ev.Action.slice('exec_start: '.length) : undefined;
    const args = info ? [info.ProcessConfig.entrypoint, ...(info.ProcessConfig.arguments ?? [])] : (command ?? '').split(/\s+/).filter(Boolean);
    const end = action === 'exec_die';
    if (end) this.seen.delete(execId);
    else if (info) this.seen.set(execId, info);
    const meta = await this.ctx.metadata.get(ev.Actor.ID);
    const exitCode = end ? Number(ev.Actor.Attributes?.exitCode ?? info?.ExitCode ?? NaN) : undefined;
    const when = new Date(Number(ev.nano / 1_000_000n)).toISOString();
    this.ctx.output.send({
      index: this.index,
      id: deterministicId(ev.Actor.ID, execId, end ? 'end' : 'start'),
      doc: {
        '@timestamp': when,
        message: `${end ? 'exec ended' : 'exec started'} in ${meta?.name ?? ev.Actor.ID.slice(0, 12)}: ${args.join(' ')}${end ? ` (exit ${exitCode})` : ''}`,
        event: { kind: 'event', category: ['process'], type: [end ? 'end' : 'start'], action: action, provider: 'exec', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        process: {
          pid: info?.Pid || undefined,
          name: args[0]?.split('/').pop(),
          executable: args[0]?.startsWith('/') ? args[0] : undefined,
          args,
          command_line: args.join(' '),
          ...(end ? { end: when, exit_code: Number.isNaN(exitCode) ? undefined : exitCode } : { start: when }),
          user: info?.ProcessConfig.user ? { name: info.ProcessConfig.user } : undefined,
        },
        container: meta ? containerFields(meta) : { id: ev.Actor.ID, name: ev.Actor.Attributes?.name, runtime: 'docker' },
        dockward: { exec: { id: execId, tty: info?.ProcessConfig.tty, privileged: info?.ProcessConfig.privileged, user: info?.ProcessConfig.user || undefined } },
        ...this.base,
      },
    });
  }
}
