import { boundArgs } from '../enrich/args';
import { readFileSync } from 'node:fs';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { containerFields } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import type { CollectorContext } from './collector';
import { PeriodicCollector, periodicConfig } from './periodic';
import { processDocId } from './kernel/documents';
import { kernelCoverage, type KernelCoverage } from './kernel/coverage';
import { bootTimeMs, commFromStat, startMs } from './kernel/procfs';

export const processesConfig = periodicConfig('*/5 * * * * *', {});
export type ProcessesConfig = z.output<typeof processesConfig>;

const DATASET = 'dockward.process';
// -e: every process (the engine keeps those of the container); args last: it may hold spaces.
const PS_ARGS = '-eo pid,ppid,uid,user,etimes,args';

interface Proc {
  pid: number;
  ppid: number;
  uid: string;
  user: string;
  args: string;
  /** Start in ms since the epoch; exact when /proc is readable, else from etimes (±1 s). */
  start: number;
  exact: boolean;
}

/**
 * Polls `top` for every running container and emits a process document for each process that
 * started or ended since the previous snapshot (`event.provider: poll`). The first snapshot of a
 * container is marked `dockward.process.first_snapshot`: its processes may have started long ago.
 * Identity: container, host pid, start time (exact from /proc/<pid>/stat when dockward shares the
 * host's PID namespace), so a re-poll after a restart gives the same ids.
 * While the kernel collector is subscribed and healthy, a process that started after its
 * subscription is the kernel's alone (kernel/coverage.ts says why); polling still tracks it.
 */
export class ProcessesCollector extends PeriodicCollector<Map<number, Proc>> {
  readonly name = 'processes';
  private readonly bootMs = bootTimeMs();
  private readonly kernel: KernelCoverage;
  private readonly leftToKernel: Counter<string>;

  constructor(ctx: CollectorContext, cfg: ProcessesConfig) {
    super(ctx, cfg, 'logs', DATASET);
    this.kernel = kernelCoverage(ctx);
    const name = 'dockward_processes_left_to_kernel_total';
    this.leftToKernel = (ctx.telemetry.registry.getSingleMetric(name) as Counter<string> | undefined)
      ?? new Counter({ name, help: 'Process starts/ends polling saw and left to the kernel collector', labelNames: ['type'], registers: [ctx.telemetry.registry] });
  }

  protected async poll(meta: ContainerMeta): Promise<void> {
    const top = (await this.ctx.docker.getContainer(meta.id).top({ ps_args: PS_ARGS })) as { Titles: string[]; Processes: string[][] };
    const now = Date.now();
    const current = new Map<number, Proc>();
    const col = (t: string) => top.Titles.findIndex((x) => x.toUpperCase() === t);
    const [iPid, iPpid, iUid, iUser, iEt, iArgs] = ['PID', 'PPID', 'UID', 'USER', 'ELAPSED', 'COMMAND'].map(col);
    for (const row of top.Processes ?? []) {
      const pid = Number(row[iPid]);
      const args = row[iArgs >= 0 ? iArgs : row.length - 1];
      const exact = this.startFromProc(pid, args);
      current.set(pid, {
        pid,
        ppid: Number(row[iPpid]),
        uid: row[iUid],
        user: row[iUser],
        args,
        start: exact ?? Math.round((now - Number(row[iEt]) * 1000) / 1000) * 1000,
        exact: exact !== undefined,
      });
    }
    const previous = this.state.get(meta.id);
    this.state.set(meta.id, current);
    const container = containerFields(meta);
    for (const p of current.values()) {
      const before = previous?.get(p.pid);
      if (!before || !samePid(before, p)) this.emit(meta, container, p, 'start', previous === undefined, now);
    }
    if (!previous) return;
    for (const p of previous.values()) {
      const after = current.get(p.pid);
      if (!after || !samePid(p, after)) this.emit(meta, container, p, 'end', false, now);
    }
  }

  private emit(meta: ContainerMeta, container: Record<string, unknown>, p: Proc, type: 'start' | 'end', first: boolean, now: number): void {
    if (this.kernel.owns(p.start, p.exact)) {
      this.leftToKernel.inc({ type });
      return;
    }
    const args = boundArgs(p.args.split(/\s+/).filter(Boolean));
    const exe = args[0] ?? '';
    const parent = this.state.get(meta.id)?.get(p.ppid);
    this.ctx.output.send({
      index: this.index,
      id: processDocId(meta.id, p.pid, p.start, type), // the kernel collector names a process alike
      doc: {
        '@timestamp': new Date(type === 'start' ? (first ? now : p.start) : now).toISOString(),
        message: `${type === 'start' ? 'process started' : 'process ended'}: ${args.join(' ')}`,
        event: { kind: 'event', category: ['process'], type: [type], action: type === 'start' ? 'process_started' : 'process_ended', provider: 'poll', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        process: {
          pid: p.pid,
          name: exe.split('/').pop(),
          executable: exe.startsWith('/') ? exe : undefined,
          args,
          command_line: args.join(' '),
          start: new Date(p.start).toISOString(),
          ...(type === 'end' ? { end: new Date(now).toISOString() } : {}),
          parent: { pid: p.ppid, ...(parent ? { name: parent.args.split(/\s+/)[0]?.split('/').pop(), command_line: parent.args } : {}) },
          user: { id: p.uid, name: p.user },
        },
        container,
        dockward: { process: { first_snapshot: first || undefined, start_exact: p.exact } },
        ...this.base,
      },
    });
  }

  /**
   * Start time from /proc/<pid>/stat (field 22, clock ticks after boot), when dockward sees the
   * host's PIDs: the process's comm must match the command, or this /proc is another namespace's.
   */
  private startFromProc(pid: number, args: string): number | undefined {
    if (this.bootMs === undefined) return undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const comm = commFromStat(stat);
      const name = (args.split(/\s+/)[0] ?? '').split('/').pop() ?? '';
      if (!name.startsWith(comm.slice(0, 15)) && !args.includes(comm)) return undefined;
      return startMs(stat, this.bootMs);
    } catch {
      return undefined;
    }
  }
}

/** Same process in two snapshots: same pid, same command, start within the etimes jitter. */
function samePid(a: Proc, b: Proc): boolean {
  return a.args === b.args && Math.abs(a.start - b.start) <= (a.exact && b.exact ? 0 : 2000);
}
