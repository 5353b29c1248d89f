import { argv0Verdict, processName } from '../process-identity';
import { argBytes, type Entry, type ProcessFact } from '../kernel/facts';
import type { AuditExec } from './assembler';

export interface JoinStats {
  /** Exec starts that took argv, executable, directory and ids from their audit event. */
  joined: number;
  /** Exec starts whose audit event did not come within the wait: /proc's reading stands. */
  procOnly: number;
  /** Audit events no container exec claimed (host processes mostly), dropped after the wait. */
  unmatched: number;
  /** Starts sent before their wait because too many (or too many argument bytes) waited. */
  heldOverflow: number;
}


interface Held {
  facts: ProcessFact[];
  bytes: number;
  deadline: number;
  /** The exec's kernel time on the wall clock (ms), to compare with the audit records' stamps. */
  wall: number;
}

/**
 * How far past an exec the audit stream must be before its event is given up on. The stream is in
 * order of the syscalls' ends and the stamps are taken at their starts (coarse clock, a few ms),
 * so a record stamped this much later means this exec's records would have come before it.
 */
export const PASSED_MS = 250;

/**
 * An audit event stamped this much before an exec is not that exec's, when nothing else tells
 * (the process was gone before /proc named its executable): the pid's exec before it that the
 * table does not document, such as the runtime's `runc init` that becomes the container's init.
 */
export const STALE_MS = 100;

/**
 * Joins the proc connector's exec starts (container, parent, start time: the process table's) with
 * the audit events of the same pid (what was exec'd: argv, executable, directory, ids, captured
 * by the kernel inside the syscall, so a process that is gone before /proc is read keeps them).
 * The two arrive in either order on the one reader thread: a start waits for its event (its end,
 * if it comes meanwhile, waits behind it) until the audit stream has passed the exec's time by
 * PASSED_MS without it (audit did not see it: a task older than auditing, a lost record) or, on a
 * quiet host with no later record, `waitMs`; an event waits `waitMs` for its start. A fixed short
 * wait alone lost 2 % of a busy burst: kauditd, a kernel thread, fell half a second behind.
 */
export class AuditJoin {
  readonly stats: JoinStats = { joined: 0, procOnly: 0, unmatched: 0, heldOverflow: 0 };
  private readonly held = new Map<number, Held>();
  private readonly early = new Map<number, { events: AuditExec[]; deadline: number; bytes: number }>();
  /** Argument bytes held (facts and early events): bounded by maxBytes, as the count is by maxHeld. */
  private bytes = 0;
  /** The latest stamp of the audit stream (ms since the epoch). */
  private clock = 0;

  constructor(
    private readonly opts: { waitMs: number; maxHeld: number; maxBytes: number; wallMs: (ts: bigint) => number },
    private readonly entry: (pid: number) => Entry | undefined,
    private readonly emit: (f: ProcessFact) => void,
  ) {}

  fact(f: ProcessFact, now: number): void {
    const h = this.held.get(f.pid);
    if (h) {
      h.facts.push(f); // behind the start it belongs to: ends never overtake starts
      const c = argBytes(f.args);
      h.bytes += c;
      this.bytes += c;
      return;
    }
    if (!joinable(f)) return this.emit(f);
    const ev = this.takeEarly(f);
    if (ev) return this.emit(this.merge(f, ev));
    const c = argBytes(f.args);
    while (this.early.size > 0 && this.bytes + c > this.opts.maxBytes) this.dropOldestEarly();
    if (this.held.size >= this.opts.maxHeld || this.bytes + c > this.opts.maxBytes) {
      this.stats.heldOverflow++;
      this.stats.procOnly++;
      return this.emit({ ...f, source: 'proc' });
    }
    this.bytes += c;
    this.held.set(f.pid, { facts: [f], bytes: c, deadline: now + this.opts.waitMs, wall: this.opts.wallMs(f.ts!) });
  }

  audit(ev: AuditExec, now: number): void {
    if (ev.time > this.clock) this.clock = ev.time;
    // A failed exec changed nothing: no proc connector exec pairs with it.
    if (!ev.success) return;
    const h = this.held.get(ev.pid);
    if (h && !plausible(h.facts[0], ev, h.wall)) {
      this.stats.unmatched++; // an earlier exec of the pid, late: the start waits on for its own
      return;
    }
    if (h) {
      this.held.delete(ev.pid);
      this.bytes -= h.bytes;
      const [start, ...rest] = h.facts;
      this.after(this.merge(start, ev), rest, now);
      return;
    }
    let e = this.early.get(ev.pid);
    if (!e) {
      // Bounded in count (each event's args are bounded already): host execs pass through here.
      if (this.early.size >= this.opts.maxHeld) this.dropOldestEarly();
      e = { events: [], deadline: now + this.opts.waitMs, bytes: 0 };
      this.early.set(ev.pid, e);
    }
    // Two execs of one pid within the wait (a shell that execs its last command); more is a flood.
    if (e.events.length >= 2) return void this.stats.unmatched++;
    const c = argBytes(ev.args);
    // Bounded in bytes too: each event's args are bounded (64 KiB), but thousands of them are not.
    while (this.bytes + c > this.opts.maxBytes && this.early.size > 1) this.dropOldestEarly(e);
    e.events.push(ev);
    e.bytes += c;
    this.bytes += c;
  }

  /** Starts and events past their wait (call a few times a second, and with Infinity at stop). */
  expire(now: number): void {
    for (const [pid, h] of this.held) {
      if (h.deadline > now && this.clock <= h.wall + PASSED_MS) continue;
      this.held.delete(pid);
      this.bytes -= h.bytes;
      this.stats.procOnly++;
      const [start, ...rest] = h.facts;
      this.after({ ...start, source: 'proc' }, rest, now);
    }
    for (const [pid, e] of this.early) {
      if (e.deadline > now) continue;
      this.early.delete(pid);
      this.bytes -= e.bytes;
      this.stats.unmatched += e.events.length;
    }
  }

  get waiting(): number {
    return this.held.size;
  }

  /** The pid's first waiting event that can be this exec's; the ones before it are not (counted). */
  private takeEarly(f: ProcessFact): AuditExec | undefined {
    const e = this.early.get(f.pid);
    if (!e) return undefined;
    const wall = this.opts.wallMs(f.ts!);
    let ev: AuditExec | undefined;
    while (!ev && e.events.length > 0) {
      const x = e.events.shift()!;
      const c = argBytes(x.args);
      e.bytes -= c;
      this.bytes -= c;
      if (plausible(f, x, wall)) ev = x;
      else this.stats.unmatched++;
    }
    if (e.events.length === 0) this.early.delete(f.pid);
    return ev;
  }

  /** The oldest waiting events are given up on (counted unmatched); `keep` is the one being added to. */
  private dropOldestEarly(keep?: { events: AuditExec[] }): void {
    for (const [pid, e] of this.early) {
      if (e === keep) continue;
      this.early.delete(pid);
      this.bytes -= e.bytes;
      this.stats.unmatched += e.events.length;
      return;
    }
  }

  /**
   * The start with what audit saw. The table's entry takes it too (same process: same start), so
   * the end, the children's `parent` and the session's `entry_leader` carry it as well.
   */
  private merge(f: ProcessFact, ev: AuditExec): ProcessFact {
    this.stats.joined++;
    const args = ev.args ?? f.args;
    const executable = ev.exe ?? f.executable;
    const name = f.name ?? processName({ comm: ev.comm, exe: executable, args }, 'exec');
    const id = {
      args, executable, name, argv0: argv0Verdict(args, name, executable), cwd: ev.cwd ?? f.cwd,
      uid: ev.uid ?? f.uid, euid: ev.euid ?? f.euid, gid: ev.gid ?? f.gid,
    };
    const e = this.entry(f.pid);
    if (e && e.start === f.start) {
      Object.assign(e, id);
      if (e.leader.pid === f.pid) Object.assign(e.leader, { name, args, executable });
    }
    const leader = f.leader.pid === f.pid ? { ...f.leader, name, args, executable } : f.leader;
    return { ...f, ...id, leader, exitRace: args === undefined ? f.exitRace : undefined, source: 'audit' };
  }

  /**
   * Emits a start that waited, then what waited behind it up to the pid's next exec start, which
   * now waits for its own audit event (`exec -a nginx nc` from bash: both execs were in before
   * bash's event, and nc's start went out with no command line).
   */
  private after(start: ProcessFact, rest: ProcessFact[], now: number): void {
    this.emit(start);
    const next = rest.findIndex(joinable);
    for (const f of next < 0 ? rest : rest.slice(0, next)) this.release(f, start);
    if (next < 0) return;
    const [head, ...behind] = rest.slice(next);
    const ev = this.takeEarly(head);
    if (ev) return this.after(this.merge(head, ev), behind, now);
    const facts = [head, ...behind];
    const bytes = facts.reduce((n, f) => n + argBytes(f.args), 0);
    this.bytes += bytes;
    this.held.set(head.pid, { facts, bytes, deadline: now + this.opts.waitMs, wall: this.opts.wallMs(head.ts!) });
  }

  /** A fact that waited behind its start: an end of the same image carries the audit identity. */
  private release(f: ProcessFact, start: ProcessFact): void {
    if (f.type !== 'end' || f.start !== start.start || f.image !== start.image) return this.emit(f);
    const { args, executable, name, argv0, cwd, uid, euid, gid, source, exitRace } = start;
    this.emit({ ...f, args, executable, name, argv0, cwd, uid, euid, gid, source, exitRace });
  }
}

/** An exec start, which audit saw too: it waits for its event. */
function joinable(f: ProcessFact): boolean {
  return f.type === 'start' && f.ts !== undefined && !f.noexec && !f.forkOnly && !f.scan;
}

/**
 * Can `ev` be the audit event of the exec `f` announced at `wall`? The executable decides when
 * /proc named it (the same file: audit names it from inside the syscall), else the time.
 */
function plausible(f: ProcessFact, ev: AuditExec, wall: number): boolean {
  if (f.executable !== undefined && ev.exe !== undefined) return f.executable === ev.exe || f.executable === `${ev.exe} (deleted)`;
  return ev.time >= wall - STALE_MS;
}
