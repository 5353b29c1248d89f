import { boundArgs } from '../../enrich/args';
import { EXEC_ABIS } from './protocol';
import { AUDIT_CWD, AUDIT_EOE, AUDIT_EXECVE, AUDIT_SYSCALL, execveParts, num, parseRecord, untrusted } from './records';

/** One exec as the audit records of its syscall tell it: no /proc read, so no race with its exit. */
export interface AuditExec {
  serial: number;
  /** ms since the epoch, from the records' stamp. */
  time: number;
  syscall: 'execve' | 'execveat';
  success: boolean;
  /** The syscall's return: 0, or -errno of a failed exec. */
  exit?: number;
  pid: number;
  ppid?: number;
  uid?: number;
  euid?: number;
  gid?: number;
  auid?: number;
  comm?: string;
  exe?: string;
  cwd?: string;
  /** Bounded (boundArgs); undefined when the EXECVE record never came (a failed exec has none). */
  args?: string[];
  /** The arguments went past max_arg_bytes or max_args: the rest are not in args (counted). */
  argsCut?: boolean;
}

export interface AssemblerLimits {
  /** Records one event may hold; an EXECVE split over more is cut there. */
  maxRecords: number;
  maxArgs: number;
  /** Decoded argument bytes kept per event (the /proc read keeps 64 KiB too). */
  maxArgBytes: number;
  /** Events open at once; past it the oldest is closed as it is. */
  maxOpen: number;
  /** An event whose EOE has not come after this long is closed as it is. */
  timeoutMs: number;
}

export interface AssemblerStats {
  records: number;
  /** Exec events completed (EOE or timeout), successful and failed. */
  events: number;
  failed: number;
  parseErrors: number;
  /** Events closed without their EOE: timeout or the open-event cap. */
  timeouts: number;
  overflow: number;
  /** Events whose arguments or records went past a cap. */
  cut: number;
  /** Events of other syscalls (another tool's rules share the multicast group). */
  other: number;
}

interface Open {
  exec?: AuditExec;
  since: number;
  records: number;
  other: boolean;
  args: string[];
  argBytes: number;
  /** Chunks of the split argument being put together. */
  split?: { index: number; parts: string[] };
  cut: boolean;
  cwd?: string;
}

const EXEC_SYSCALLS = new Map<string, 'execve' | 'execveat'>();
for (const abi of EXEC_ABIS) {
  const arch = abi.arch.toString(16);
  EXEC_SYSCALLS.set(`${arch}:${abi.syscalls[0]}`, 'execve');
  EXEC_SYSCALLS.set(`${arch}:${abi.syscalls[1]}`, 'execveat');
}

/**
 * Argument bytes all open events may hold together: 4,096 events of 64 KiB would be 256 MiB, so
 * past this the oldest open event is closed as it is (counted as overflow).
 */
export const MAX_OPEN_BYTES = 16 * 1024 * 1024;

/**
 * Puts records together into exec events by their serial and hands each on at its EOE. Every
 * input is the host's processes' doing: records, arguments and bytes are capped per event, open
 * events are capped in number and in time, and each cut is counted.
 */
export class EventAssembler {
  readonly stats: AssemblerStats = { records: 0, events: 0, failed: 0, parseErrors: 0, timeouts: 0, overflow: 0, cut: 0, other: 0 };
  private readonly open = new Map<number, Open>();
  private bytes = 0;

  constructor(private readonly limits: AssemblerLimits, private readonly emit: (e: AuditExec) => void) {}

  get pending(): number {
    return this.open.size;
  }

  /** One record (its type and text as the kernel sent it); `now` in ms on any monotonic scale. */
  record(type: number, text: string, now: number): void {
    this.stats.records++;
    // Only these carry what an exec document needs; PATH, PROCTITLE, BPRM_FCAPS … are skipped unread.
    if (type !== AUDIT_SYSCALL && type !== AUDIT_EXECVE && type !== AUDIT_CWD && type !== AUDIT_EOE) return;
    const r = parseRecord(type, text);
    if (!r) {
      this.stats.parseErrors++;
      return;
    }
    let o = this.open.get(r.serial);
    if (type === AUDIT_EOE) {
      if (o) this.close(r.serial, o, false);
      return;
    }
    if (!o) {
      o = { since: now, records: 0, other: false, args: [], argBytes: 0, cut: false };
      this.open.set(r.serial, o);
      if (this.open.size > this.limits.maxOpen) {
        const [oldest, first] = this.open.entries().next().value as [number, Open];
        this.stats.overflow++;
        this.close(oldest, first, true);
      }
    }
    if (o.other) return;
    if (++o.records > this.limits.maxRecords) {
      o.cut = true;
      return;
    }
    const f = r.fields;
    if (type === AUDIT_SYSCALL) {
      const syscall = EXEC_SYSCALLS.get(`${f.get('arch')}:${f.get('syscall')}`);
      const pid = num(f.get('pid'));
      if (!syscall || pid === undefined) {
        o.other = true;
        return;
      }
      o.exec = {
        serial: r.serial, time: r.time, syscall, success: f.get('success') === 'yes', exit: num(f.get('exit')), pid,
        ppid: num(f.get('ppid')), uid: num(f.get('uid')), euid: num(f.get('euid')), gid: num(f.get('gid')), auid: num(f.get('auid')),
        comm: untrusted(f.get('comm')), exe: untrusted(f.get('exe')),
      };
    } else if (type === AUDIT_CWD) {
      o.cwd = untrusted(f.get('cwd'));
    } else {
      execveParts(r, (index, chunk, value) => this.arg(o!, index, chunk, value));
    }
  }

  /** Closes events whose EOE is overdue (call it a few times a second). */
  expire(now: number): void {
    for (const [serial, o] of this.open) {
      if (now - o.since < this.limits.timeoutMs) break; // in arrival order: the rest are younger
      this.stats.timeouts++;
      this.close(serial, o, true);
    }
  }

  /** Everything still open, as it is (at stop). */
  drain(): void {
    for (const [serial, o] of this.open) this.close(serial, o, true);
  }

  private arg(o: Open, index: number, chunk: number | undefined, value: string | undefined): void {
    if (chunk === -1) return; // aN_len: the chunks that follow say it all
    if (chunk !== undefined) {
      if (!o.split || o.split.index !== index) {
        this.endSplit(o);
        o.split = { index, parts: [] };
      }
      if (value !== undefined && this.take(o, value.length)) o.split.parts.push(value);
      return;
    }
    this.endSplit(o);
    const v = value ?? '';
    if (this.take(o, v.length)) o.args.push(v);
  }

  /** The split argument is whole (its bytes were taken chunk by chunk). */
  private endSplit(o: Open): void {
    if (!o.split) return;
    const parts = o.split.parts;
    o.split = undefined;
    if (o.args.length < this.limits.maxArgs) o.args.push(parts.join(''));
    else o.cut = true;
  }

  /** Room for an argument (or chunk) of n bytes: taken, or the event is marked cut. */
  private take(o: Open, n: number): boolean {
    if (o.args.length < this.limits.maxArgs && o.argBytes + n <= this.limits.maxArgBytes) {
      o.argBytes += n;
      this.bytes += n;
      while (this.bytes > MAX_OPEN_BYTES && this.open.size > 1) {
        const [oldest, first] = this.open.entries().next().value as [number, Open];
        if (first === o) break;
        this.stats.overflow++;
        this.close(oldest, first, true);
      }
      return true;
    }
    o.cut = true;
    return false;
  }

  private close(serial: number, o: Open, early: boolean): void {
    this.open.delete(serial);
    this.bytes -= o.argBytes;
    this.endSplit(o);
    const e = o.exec;
    if (!e || o.other) {
      if (o.other) this.stats.other++;
      else if (!early) this.stats.parseErrors++; // an EOE without its SYSCALL: a record went missing
      return;
    }
    this.stats.events++;
    if (!e.success) this.stats.failed++;
    if (o.cut) this.stats.cut++;
    e.cwd = o.cwd;
    if (o.args.length > 0) e.args = boundArgs(o.args);
    if (o.cut) e.argsCut = true;
    this.emit(e);
  }
}
