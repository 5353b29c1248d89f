import { z } from 'zod';
import { byteSize, duration } from '../../config/units';
import { EventAssembler, type AssemblerLimits, type AssemblerStats, type AuditExec } from './assembler';
import { install, remove, restore, status, type Installed } from './rules';
import { AuditSocket } from './socket';
import type { Notice } from '../kernel/source';

export const auditConfig = z
  .object({
    /**
     * Exec identity from the kernel audit subsystem (argv, executable, directory, ids captured in
     * the syscall, so short commands keep their command line). auto: on where permitted (root with
     * CAP_AUDIT_CONTROL and CAP_AUDIT_READ, kernel process events running, audit not locked, failure
     * mode not panic), one info line where not; true: the same, but a warning; false: /proc only.
     * Adds two rules keyed dockward:<pid of the kernel reader process> and may turn syscall
     * auditing on until stop (docs/audit.md).
     */
    enabled: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /**
     * Longest an exec start waits for its audit event before /proc's reading is used; it waits less
     * once later audit records show audit did not see it (join.ts).
     */
    join_wait: duration.prefault('3s'),
    /** An event whose end-of-event record has not come after this long is used as it is. */
    event_timeout: duration.prefault('2s'),
    /** Records one event may hold (a long command line spans several EXECVE records). */
    max_records_per_event: z.number().int().min(4).default(256),
    /** Arguments kept per exec; the rest are counted as cut. */
    max_args: z.number().int().min(1).default(4096),
    /** Argument bytes kept per exec (the /proc read keeps 64 KiB too). */
    max_arg_bytes: byteSize.prefault('64kib'),
    /** Events being put together at once; past it the oldest is used as it is (counted). */
    max_open_events: z.number().int().min(16).default(4096),
    /** Multicast socket receive buffer (the kernel grants up to twice net.core.rmem_max). */
    receive_buffer: byteSize.prefault('8mib'),
  })
  .strict()
  .prefault({});
export type AuditConfig = z.output<typeof auditConfig>;

export interface AuditSourceOptions extends AssemblerLimits {
  receiveBuffer: number;
}

/** What the kernel reader thread gets (kernel/source.ts), or undefined when audit is off. */
export function readerOptions(a: AuditConfig | undefined): (AuditSourceOptions & { waitMs: number; asked: boolean }) | undefined {
  return a && a.enabled !== false ? { ...sourceOptions(a), waitMs: a.join_wait, asked: a.enabled === true } : undefined;
}

export function sourceOptions(c: AuditConfig): AuditSourceOptions {
  return { maxRecords: c.max_records_per_event, maxArgs: c.max_args, maxArgBytes: c.max_arg_bytes, maxOpen: c.max_open_events, timeoutMs: c.event_timeout, receiveBuffer: c.receive_buffer };
}

export interface AuditStats extends AssemblerStats {
  /** The kernel's own count of records it could not deliver (audit_status.lost), since start. */
  lost: number;
  /** Times the multicast buffer overflowed (ENOBUFS): records of that moment are gone. */
  overruns: number;
  /** Rules put back after someone removed them (auditctl -D). */
  restored: number;
  backlog: number;
}

/** How often the kernel's status (lost, backlog) is read and the rules are checked. */
const STATUS_MS = 1000;
const RULES_MS = 10_000;

/**
 * The audit side of the reader thread: installs the exec rules (rules.ts), reads the multicast
 * group, puts records together (assembler.ts) and hands exec events to `onExec`. Never the audit
 * daemon: auditd, when it runs, keeps its unicast stream and its own rules.
 */
export class AuditSource {
  private control: AuditSocket | undefined;
  private reader: AuditSocket | undefined;
  private installed: Installed | undefined;
  private readonly assembler: EventAssembler;
  private timers: NodeJS.Timeout[] = [];
  private lostAtStart = 0;
  private polling: Promise<void> | undefined;
  private readonly s = { lost: 0, overruns: 0, restored: 0, backlog: 0 };

  constructor(
    private readonly opts: AuditSourceOptions,
    onExec: (e: AuditExec) => void,
    private readonly notice: (n: Notice) => void,
  ) {
    this.assembler = new EventAssembler(opts, onExec);
  }

  /** Rejects with the reason when audit cannot run here; nothing is left changed then. */
  async start(): Promise<Installed> {
    const control = new AuditSocket('control');
    this.control = control;
    try {
      // Reading first: records of the first execs after the rules go in are not missed.
      const reader = new AuditSocket('reader', this.opts.receiveBuffer);
      this.reader = reader;
      reader.on('record', (type: number, text: Buffer) => {
        const z = text.indexOf(0);
        this.assembler.record(type, text.toString('latin1', 0, z < 0 ? text.length : z), performance.now());
      });
      reader.on('overrun', () => this.s.overruns++);
      reader.on('error', (err: Error) => this.notice({ name: 'audit.socket.error', level: 'warn', message: `audit: ${err.message}` }));
      this.installed = await install(control);
      this.lostAtStart = this.installed.status.lost;
    } catch (err) {
      this.close();
      throw err;
    }
    this.timers.push(setInterval(() => this.assembler.expire(performance.now()), 100));
    this.timers.push(setInterval(() => this.poll(false), STATUS_MS));
    this.timers.push(setInterval(() => this.poll(true), RULES_MS));
    return this.installed;
  }

  get stats(): AuditStats {
    return { ...this.assembler.stats, ...this.s };
  }

  /** Removes the rules (and turns auditing off again if this process turned it on). */
  async stop(): Promise<void> {
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.assembler.drain();
    await this.polling; // one request at a time on the control socket
    const c = this.control;
    const i = this.installed;
    this.installed = undefined;
    try {
      if (c && i) await remove(c, i);
    } catch (err) {
      this.notice({ name: 'audit.rules.remove_failed', level: 'warn', message: `audit: dockward's exec rules could not be removed: ${(err as Error).message}; the next start removes them (key dockward:<pid>)` });
    } finally {
      this.close();
    }
  }

  private poll(rules: boolean): void {
    if (this.polling || !this.control || !this.installed) return;
    this.polling = this.check(this.control, rules).finally(() => {
      this.polling = undefined;
    });
  }

  private async check(c: AuditSocket, rules: boolean): Promise<void> {
    try {
      const st = await status(c);
      this.s.lost = Math.max(0, st.lost - this.lostAtStart);
      this.s.backlog = st.backlog;
      if (rules && this.installed) {
        const n = await restore(c, this.installed);
        if (n > 0) {
          this.s.restored += n;
          this.notice({ name: 'audit.rules.restored', level: 'warn', message: `audit: ${n} exec rule(s) had been removed by someone else; added again` });
        }
      }
    } catch (err) {
      this.notice({ name: 'audit.status.failed', level: 'debug', message: `audit: ${(err as Error).message}` });
    }
  }

  private close(): void {
    this.reader?.close();
    this.control?.close();
    this.reader = undefined;
    this.control = undefined;
  }
}
