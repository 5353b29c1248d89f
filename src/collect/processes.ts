import { readFileSync, readlinkSync } from 'node:fs';
import { boundArgs } from '../enrich/args';
import { Counter } from 'prom-client';
import { z } from 'zod';
import { containerFields } from '../enrich/ecs';
import type { ContainerMeta } from '../enrich/metadata';
import type { CollectorContext } from './collector';
import { PeriodicCollector, periodicConfig } from './periodic';
import { processDocId } from './kernel/documents';
import { kernelCoverage, type KernelCoverage } from './kernel/coverage';
import { bootTimeMs, commFromStat, startMs } from './kernel/procfs';
import { argv0Verdict, processName, processTitle, ruleCommandLine } from './process-identity';

export const processesConfig = periodicConfig('*/5 * * * * *', {});
export type ProcessesConfig = z.output<typeof processesConfig>;

const DATASET = 'dockward.process';
// -e: every process (the engine keeps those of the container); comm (the kernel's name for the
// program, not argv[0]) under its own title, since ps calls both comm and args COMMAND; args last:
// it may hold spaces (the engine splits rows on blanks and joins the rest into the last column; so
// a comm with a blank, which only the process itself can set, spills into args: /proc's comm is
// taken instead whenever /proc is the host's).
const PS_ARGS = '-eo pid,ppid,uid,user,etimes -o comm=COMM -o args';

export interface Proc {
  pid: number;
  ppid: number;
  uid: string;
  user: string;
  args: string;
  /** comm: /proc/<pid>/stat's when readable, else ps's column. */
  comm?: string;
  /** /proc/<pid>/exe, when /proc is the host's; never argv[0]. */
  exe?: string;
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
    const [iPid, iPpid, iUid, iUser, iEt, iComm, iArgs] = ['PID', 'PPID', 'UID', 'USER', 'ELAPSED', 'COMM', 'COMMAND'].map(col);
    for (const row of top.Processes ?? []) {
      const pid = Number(row[iPid]);
      const args = row[iArgs >= 0 ? iArgs : row.length - 1] ?? '';
      const comm = iComm >= 0 ? row[iComm] : undefined;
      const proc = this.fromProc(pid, comm, args);
      current.set(pid, {
        pid,
        ppid: Number(row[iPpid]),
        uid: row[iUid],
        user: row[iUser],
        args,
        comm: proc?.comm ?? comm,
        exe: proc?.exe,
        start: proc?.start ?? Math.round((now - Number(row[iEt]) * 1000) / 1000) * 1000,
        exact: proc !== undefined,
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
    const parent = this.state.get(meta.id)?.get(p.ppid);
    const { process, dockward } = polledProcess(p, parent, first);
    this.ctx.output.send({
      index: this.index,
      id: processDocId(meta.id, p.pid, p.start, type), // the kernel collector names a process alike
      doc: {
        '@timestamp': new Date(type === 'start' ? (first ? now : p.start) : now).toISOString(),
        message: `${type === 'start' ? 'process started' : 'process ended'}: ${process.command_line}${dockward.argv0_mismatch ? ` (started as ${JSON.stringify((process.title ?? '').slice(0, 64))})` : ''}`,
        event: { kind: 'event', category: ['process'], type: [type], action: type === 'start' ? 'process_started' : 'process_ended', provider: 'poll', dataset: DATASET, module: 'dockward', created: new Date().toISOString() },
        process: {
          ...process,
          start: new Date(p.start).toISOString(),
          ...(type === 'end' ? { end: new Date(now).toISOString() } : {}),
          user: { id: p.uid, name: p.user },
        },
        container,
        dockward: { process: { first_snapshot: first || undefined, start_exact: p.exact, ...dockward } },
        ...this.base,
      },
    });
  }

  /**
   * Start time from /proc/<pid>/stat (field 22, clock ticks after boot), comm and exe, when
   * dockward sees the host's PIDs: the process's comm must be ps's (or match the command), or this
   * /proc is another namespace's.
   */
  private fromProc(pid: number, psComm: string | undefined, args: string): { start: number; comm: string; exe?: string } | undefined {
    if (this.bootMs === undefined) return undefined;
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const comm = commFromStat(stat);
      const name = (args.split(/\s+/)[0] ?? '').split('/').pop() ?? '';
      if (comm !== psComm && !name.startsWith(comm.slice(0, 15)) && !args.includes(comm)) return undefined;
      const start = startMs(stat, this.bootMs);
      if (start === undefined) return undefined;
      let exe: string | undefined;
      try {
        exe = readlinkSync(`/proc/${pid}/exe`);
      } catch {
        /* gone, or a kernel thread */
      }
      return { start, comm, exe };
    } catch {
      return undefined;
    }
  }
}

/**
 * The process.* fields of a polled process (and the dockward.process ones they imply). Its name
 * is the kernel's (comm, checked against /proc/<pid>/exe when readable), never argv[0]; argv[0]
 * is judged (argv0_mismatch, a command line that starts with the program) only for a process that
 * runs another program than its parent — one that exec'd — and not in a first snapshot: ps shows
 * argv as it is now, and a forked worker or a long-running service may have retitled itself.
 */
export function polledProcess(p: Proc, parent: Proc | undefined, first: boolean): {
  process: { pid: number; name?: string; title?: string; executable?: string; args: string[]; command_line?: string; parent: Record<string, unknown> };
  dockward: { argv0_mismatch?: true };
} {
  const args = boundArgs(p.args.split(/\s+/).filter(Boolean));
  const name = processName({ args, comm: p.comm, exe: p.exe }, 'running');
  const pname = parent ? processName({ args: parent.args.split(/\s+/).filter(Boolean), comm: parent.comm, exe: parent.exe }, 'running') : undefined;
  const execd = !parent || (p.exe !== undefined && parent.exe !== undefined ? p.exe !== parent.exe : name !== pname);
  const verdict = !first && execd ? argv0Verdict(args, name, p.exe) : undefined;
  return {
    process: {
      pid: p.pid,
      name,
      title: processTitle(args),
      executable: p.exe,
      args,
      command_line: ruleCommandLine(args, name, p.exe, verdict),
      parent: { pid: p.ppid, ...(parent ? { name: pname, command_line: boundArgs(parent.args.split(/\s+/).filter(Boolean)).join(' ') } : {}) },
    },
    dockward: verdict === 'masquerade' ? { argv0_mismatch: true } : {},
  };
}

/** Same process in two snapshots: same pid, same command, start within the etimes jitter. */
function samePid(a: Proc, b: Proc): boolean {
  return a.args === b.args && Math.abs(a.start - b.start) <= (a.exact && b.exact ? 0 : 2000);
}
