import { decodeWaitStatus, type ProcEvent } from './proc-events';
import type { Entry, Leader, ParentInfo, ProcessFact, TableStats } from './facts';
import { listPids, readContainer, readProc, readStart, startMsFromKernelTs, type ProcInfo } from './procfs';
import { argv0Verdict, processName } from '../process-identity';

export type { Entry, Leader, ParentInfo, ProcessFact, TableStats } from './facts';

/** How long a forked child may go without exec before it is documented as it is (startForks). */
export const FORK_GRACE_NS = 1_000_000_000n;

export interface TableOptions {
  /** Most processes remembered; the oldest entry goes first (counted as evicted). */
  maxProcesses: number;
  bootMs: number | undefined;
  /** Reads /proc for one pid (replaceable for the benchmark). */
  read?: (pid: number, bootMs: number | undefined, cgroupKnown?: string | null) => ProcInfo;
  readCgroup?: (pid: number) => string | null | undefined;
  /** Only the start (stat) of a pid; defaults to `read`'s when `read` is given. */
  readStart?: (pid: number, bootMs: number | undefined) => number | undefined;
}

/**
 * The bounded process table: container processes by host pid, fed by fork/exec/exit/comm/uid
 * events. Host processes are never stored (only their execs are looked at, through the cgroup),
 * so memory is bounded by the containers' process count and `maxProcesses`.
 */
export class ProcessTable {
  private readonly procs = new Map<number, Entry>();
  readonly stats: TableStats = { execs: 0, execsContainer: 0, cmdlineRead: 0, exitRace: 0, unattributed: 0, forks: 0, exits: 0, noexec: 0, forkOnly: 0, evicted: 0, reused: 0 };
  private readonly read: NonNullable<TableOptions['read']>;
  private readonly readCgroup: NonNullable<TableOptions['readCgroup']>;
  private readonly readStart: NonNullable<TableOptions['readStart']>;
  /** The kernel time of the latest event handled: how far the reader has read (startForks). */
  private latest = 0n;

  constructor(private readonly opts: TableOptions, private readonly emit: (f: ProcessFact) => void) {
    this.read = opts.read ?? readProc;
    this.readCgroup = opts.readCgroup ?? readContainer;
    const read = opts.read;
    this.readStart = opts.readStart ?? (read ? (pid, boot) => read(pid, boot, null).start : readStart);
  }

  get size(): number {
    return this.procs.size;
  }

  get(pid: number): Entry | undefined {
    return this.procs.get(pid);
  }

  handle(ev: ProcEvent): void {
    if (ev.ts > this.latest) this.latest = ev.ts;
    switch (ev.what) {
      case 'fork':
        if (ev.childPid === ev.childTgid) this.fork(ev.parentTgid, ev.childTgid, ev.ts);
        break;
      case 'exec':
        if (ev.pid === ev.tgid) this.exec(ev.pid, ev.ts);
        break;
      case 'exit':
        if (ev.pid === ev.tgid) this.exit(ev.pid, ev.ts, ev.status);
        break;
      case 'comm':
        if (ev.pid === ev.tgid) this.comm(ev.pid, ev.comm, ev.ts);
        break;
      case 'uid': {
        const e = this.procs.get(ev.tgid);
        if (e) { e.uid = ev.real; e.euid = ev.effective; }
        break;
      }
      case 'gid': {
        const e = this.procs.get(ev.tgid);
        if (e) e.gid = ev.real;
        break;
      }
    }
  }

  private fork(parentPid: number, pid: number, ts: bigint): void {
    // A new process with a pid still in the table: the kernel dropped the old one's exit. Unless a
    // /proc scan found this very process before its fork event came: then it is known already.
    const old = this.procs.get(pid);
    if (old) {
      if (old.startExact && this.readStart(pid, this.opts.bootMs) === old.start) return;
      this.lost(old);
    }
    const parent = this.procs.get(parentPid);
    if (!parent) return; // a host process's child: looked at when (if) it execs
    this.stats.forks++;
    // fork copies the image: same command, user, directory, until the child execs.
    this.put({
      pid, ppid: parentPid, container: parent.container, forkTs: ts, startExact: false,
      start: this.opts.bootMs !== undefined ? startMsFromKernelTs(ts, this.opts.bootMs) : undefined,
      // Not the parent's argv0 verdict: a child that never execs may retitle itself (see startForks).
      args: parent.args, executable: parent.executable, name: parent.name, cwd: parent.cwd,
      uid: parent.uid, euid: parent.euid, gid: parent.gid, execs: 0, started: false, leader: parent.leader,
    });
  }

  private exec(pid: number, ts: bigint): void {
    this.stats.execs++;
    let e = this.procs.get(pid);
    // What the table holds for this pid may be a process whose exit the kernel dropped (an
    // overrun), the pid now another process elsewhere: a `docker exec` into another container, say.
    // A fork just seen vouches for its entry (the parent's container; a fork of a pid still in the
    // table ended the stale entry, see fork). Any other entry (no fork since its last exec) has its
    // cgroup read first, as a pid the table does not know.
    let container: string | undefined;
    if (e && e.execs === 0) container = e.container;
    else {
      const cg = this.readCgroup(pid);
      if (cg === undefined) {
        if (!e) {
          this.stats.unattributed++; // gone before even its cgroup could be read, and no known parent
          return;
        }
        container = e.container; // gone already (the exit race): where it was
      } else {
        if (e && cg !== e.container) e = this.lost(e);
        if (cg === null) return; // a host process
        container = cg;
      }
    }
    const info = this.read(pid, this.opts.bootMs, container);
    // The same container, but another process (its start differs): the old one ended unseen.
    if (e && e.startExact && info.start !== undefined && info.start !== e.start) e = this.lost(e);
    // The runtime's own `runc init` may already sit in the container's cgroup: not a container process yet.
    if (!e && info.args?.[1] === 'init' && info.args[0].endsWith('runc')) return;
    this.stats.execsContainer++;
    const raced = info.args === undefined;
    if (raced) this.stats.exitRace++;
    else this.stats.cmdlineRead++;
    if (!e) {
      const ppid = info.ppid ?? 0;
      const parent = this.procs.get(ppid);
      const leader: Leader = parent && parent.container === container
        ? parent.leader
        : { pid, vpid: info.vpid, name: processName(info, 'exec'), args: info.args, executable: info.exe, start: info.start, container };
      e = { pid, ppid, container, startExact: false, execs: 0, started: false, leader };
      this.put(e);
    }
    if (info.start !== undefined) {
      e.start = info.start;
      e.startExact = true;
    }
    if (e.start === undefined && this.opts.bootMs !== undefined) e.start = startMsFromKernelTs(ts, this.opts.bootMs);
    e.vpid = info.vpid ?? e.vpid;
    if (info.ppid !== undefined && info.ppid !== 0) e.ppid = info.ppid;
    // A new image: what the parent's fork copied no longer holds.
    e.args = info.args;
    e.executable = info.exe;
    // The kernel's name for the program, never argv[0]'s (`exec -a nginx nc`): see process-identity.ts.
    e.name = processName(info, 'exec');
    e.argv0 = argv0Verdict(info.args, e.name, info.exe);
    e.cwd = info.cwd ?? e.cwd;
    if (info.uid !== undefined) { e.uid = info.uid; e.euid = info.euid; e.gid = info.gid; }
    if (e.leader.pid === pid) Object.assign(e.leader, { vpid: e.vpid, name: e.name, args: e.args, executable: e.executable, start: e.start });
    this.startFact(e, ts, { exitRace: raced || undefined });
  }

  private comm(pid: number, comm: string, ts: bigint): void {
    const e = this.procs.get(pid);
    // Only a forked child that has not exec'd: busybox's shell runs its applets so (no exec event).
    if (!e || e.execs > 0 || e.started) return;
    this.stats.noexec++;
    e.name = comm;
    this.startFact(e, ts, { noexec: true });
  }

  /**
   * Starts of forked children that have not exec'd FORK_GRACE_NS after their fork (called every
   * half second with the kernel clock). Why: such a process gives the kernel no exec, and polling
   * leaves every process that started after the subscription to the kernel (coverage.ts), so
   * without this nobody would write it. Most forks exec within microseconds and are not touched.
   * /proc decides: an exe other than the parent's means the exec happened and its event is still
   * on its way (the reader is behind); a process gone is left to its exit event.
   * The grace is measured on the reader's progress, not the clock, unless the socket is `drained`:
   * an exe alone cannot tell a busybox applet's exec from a fork (both /bin/busybox), and a reader
   * more than the grace behind (a loaded host) would see the applet's new command line in /proc
   * while its exec event still sits in the socket, and start the process twice (CI at fc6140d:
   * 802 starts for 800 children). The kernel sends events in time order, so an exec within the
   * grace comes before any event stamped after it.
   */
  startForks(nowTs: bigint, drained = true): void {
    const horizon = drained || nowTs < this.latest ? nowTs : this.latest;
    for (const e of this.procs.values()) {
      if (e.started || e.execs > 0 || e.forkTs === undefined || horizon - e.forkTs < FORK_GRACE_NS) continue;
      const info = this.read(e.pid, this.opts.bootMs, e.container);
      if (info.args === undefined) continue;
      if (info.exe !== undefined && e.executable !== undefined && info.exe !== e.executable) continue;
      if (info.start !== undefined) {
        e.start = info.start;
        e.startExact = true;
      }
      e.args = info.args; // a worker may have retitled itself (nginx: worker process): no argv0 verdict
      e.argv0 = undefined;
      e.vpid = info.vpid ?? e.vpid;
      e.cwd = info.cwd ?? e.cwd;
      if (info.uid !== undefined) { e.uid = info.uid; e.euid = info.euid; e.gid = info.gid; }
      this.stats.forkOnly++;
      this.startFact(e, e.forkTs, { forkOnly: true });
    }
  }

  private startFact(e: Entry, ts: bigint | undefined, extra: Partial<ProcessFact>): void {
    if (e.start === undefined) return; // no boot time: cannot name the process
    const image = e.execs++;
    e.started = true;
    this.emit({
      type: 'start', container: e.container, pid: e.pid, vpid: e.vpid, start: e.start, startExact: e.startExact, image, ts,
      args: e.args, executable: e.executable, name: e.name, argv0: e.argv0, cwd: e.cwd, uid: e.uid, euid: e.euid, gid: e.gid,
      parent: this.parentOf(e), leader: e.leader, ...extra,
    });
  }

  private exit(pid: number, ts: bigint | undefined, status: number | undefined): void {
    const e = this.procs.get(pid);
    if (!e) return;
    this.stats.exits++;
    this.procs.delete(pid);
    if (!e.started || e.start === undefined) return;
    this.emit({
      type: 'end', container: e.container, pid, vpid: e.vpid, start: e.start, startExact: e.startExact, image: Math.max(0, e.execs - 1), ts,
      args: e.args, executable: e.executable, name: e.name, argv0: e.argv0, cwd: e.cwd, uid: e.uid, euid: e.euid, gid: e.gid,
      parent: this.parentOf(e), leader: e.leader,
      exit: status !== undefined ? decodeWaitStatus(status) : undefined,
      durationNs: ts !== undefined && e.forkTs !== undefined ? Number(ts - e.forkTs) : undefined,
    });
  }

  /** An entry whose process ended unseen (its pid names another now): ended, no exit code. */
  private lost(e: Entry): undefined {
    this.stats.reused++;
    this.exit(e.pid, undefined, undefined);
    return undefined;
  }

  /**
   * Is the pid of `e` another process now? An exact start is compared with stat's; one taken from
   * the fork's kernel time is not (that clock stops during suspend, stat's does not): the cgroup is.
   */
  private replaced(e: Entry): boolean {
    if (e.startExact) {
      const start = this.readStart(e.pid, this.opts.bootMs);
      return start !== undefined && start !== e.start;
    }
    const cg = this.readCgroup(e.pid);
    return cg !== undefined && cg !== e.container;
  }

  private parentOf(e: Entry): ParentInfo | undefined {
    const p = this.procs.get(e.ppid);
    if (!p) return e.ppid ? { pid: e.ppid } : undefined;
    return { pid: p.pid, vpid: p.vpid, name: p.name, argv0: p.argv0, args: p.args, executable: p.executable, start: p.start };
  }

  private put(e: Entry): void {
    this.procs.delete(e.pid); // a reused pid: the old entry's exit was missed
    this.procs.set(e.pid, e);
    if (this.procs.size > this.opts.maxProcesses) {
      // The oldest entry that is not a session leader (a container's init or an exec's shell, whose
      // children are still to come); among the first 64, else the oldest.
      let victim = this.procs.keys().next().value as number;
      let n = 0;
      for (const [pid, x] of this.procs) {
        if (x.leader.pid !== pid) { victim = pid; break; }
        if (++n >= 64) break;
      }
      this.procs.delete(victim);
      this.stats.evicted++;
    }
  }

  /**
   * Brings the table in line with /proc: container processes not in the table are added (a start
   * fact marked `scan`), entries whose process is gone are ended (no exit code: the event was lost),
   * and so are those whose pid another process has taken since (`replaced`; then added anew).
   * Used at start-up (`first`) and after the kernel dropped events (`resync`).
   */
  scan(kind: 'first' | 'resync'): { added: number; ended: number } {
    const alive = new Set(listPids());
    let ended = 0;
    for (const [pid, e] of [...this.procs]) {
      if (!alive.has(pid)) this.exit(pid, undefined, undefined);
      else if (this.replaced(e)) this.lost(e);
      else continue;
      ended++;
    }
    const found: Array<{ pid: number; info: ProcInfo; container: string }> = [];
    for (const pid of alive) {
      if (this.procs.has(pid)) continue;
      const cg = this.readCgroup(pid);
      if (!cg) continue;
      const info = this.read(pid, this.opts.bootMs, cg);
      if (info.args === undefined || info.start === undefined) continue; // gone meanwhile, or a kernel thread
      found.push({ pid, info, container: cg });
    }
    // Parents first (earlier start), so each child finds its parent's leader.
    found.sort((a, b) => a.info.start! - b.info.start! || a.pid - b.pid);
    for (const { pid, info, container } of found) {
      const ppid = info.ppid ?? 0;
      const parent = this.procs.get(ppid);
      // Read long after its exec: comm may have been rewritten since ('running'), argv retitled (no verdict).
      const name = processName(info, 'running');
      const e: Entry = {
        pid, ppid, container, start: info.start, startExact: true, vpid: info.vpid, args: info.args, executable: info.exe,
        name, cwd: info.cwd, uid: info.uid, euid: info.euid, gid: info.gid, execs: 0, started: false,
        leader: undefined as unknown as Leader,
      };
      e.leader = parent && parent.container === container
        ? parent.leader
        : { pid, vpid: info.vpid, name, args: info.args, executable: info.exe, start: info.start, container };
      this.put(e);
      this.startFact(e, undefined, { scan: kind });
    }
    return { added: found.length, ended };
  }
}

export { basename } from '../process-identity';
