import { ProcConnector } from './netlink';
import { parseDatagram, type ProcEvent } from './proc-events';
import { ProcessTable, type ProcessFact, type TableStats } from './process-table';
import { startMsFromKernelTs } from './procfs';
import { readFileSync } from 'node:fs';
import { getHeapStatistics } from 'node:v8';
import { AuditJoin, type JoinStats } from '../audit/join';
import { auditBlocker } from '../audit/rules';
import { AuditSource, type AuditSourceOptions, type AuditStats } from '../audit/source';
import { ExecFlood, type FloodOptions, type FoldedWindow } from './flood';

export interface SourceOptions {
  maxProcesses: number;
  receiveBuffer: number;
  maxReceiveBuffer: number;
  bootMs: number;
  /** Exec identity from the audit subsystem (collectors.audit); `asked`: enabled is true, not auto. */
  audit?: AuditSourceOptions & { waitMs: number; asked: boolean };
  /** The per-container document budget (flood.ts); applied here, before a fact is copied to dockward's main thread. */
  flood?: FloodOptions;
}

export interface SourceStats extends TableStats {
  datagrams: number;
  events: number;
  overruns: number;
  resyncs: number;
  receiveBuffer: number;
  table: number;
  audit?: AuditStats & JoinStats & { running: boolean; waiting: number };
  /** This process's resident memory, its V8 heap (used, total) and external memory (Buffers), bytes. */
  heap: { rss: number; used: number; total: number; external: number };
}

export type Notice = { name: string; level: 'info' | 'warn' | 'debug'; message: string };

/** Bytes of held audit joins (facts and early events with their arguments) before the oldest go out. */
const MAX_JOIN_BYTES = 16 * 1024 * 1024;

/**
 * Socket → parser → process table, on whatever thread runs it (the collector runs it in a process
 * of its own, reader.ts, so a busy main event loop does not delay the /proc reads that race each
 * process's exit). Facts go to `onFacts` in batches, one batch per turn of the event loop. With
 * `flood`, each container's budget is applied here: starts over it fold on this thread and only
 * what stands for them goes to `onFolded`, once a second, so an exec flood's facts (each carrying
 * its whole command line under audit) are never copied to the thread every container shares.
 */
export class KernelSource {
  readonly table: ProcessTable;
  private conn: ProcConnector | undefined;
  private batch: ProcessFact[] = [];
  private flushing = false;
  private resyncTimer: NodeJS.Timeout | undefined;
  private forkTimer: NodeJS.Timeout | undefined;
  private readonly s = { datagrams: 0, events: 0, overruns: 0, resyncs: 0 };
  private join: AuditJoin | undefined;
  private audit: AuditSource | undefined;
  private auditRunning = false;
  private joinTimer: NodeJS.Timeout | undefined;
  private foldTimer: NodeJS.Timeout | undefined;
  private readonly flood: ExecFlood | undefined;

  constructor(
    private readonly opts: SourceOptions,
    private readonly onFacts: (facts: ProcessFact[]) => void,
    private readonly notice: (n: Notice) => void,
    private readonly onFolded?: (windows: FoldedWindow[]) => void,
  ) {
    if (opts.flood && onFolded) this.flood = new ExecFlood(opts.flood);
    const a = opts.audit;
    // CLOCK_MONOTONIC ns → wall ms, refreshed each time: the join compares with audit's wall-clock stamps.
    const wallMs = (ts: bigint) => Number(ts / 1_000_000n) + (Date.now() - Number(process.hrtime.bigint() / 1_000_000n));
    if (a) this.join = new AuditJoin({ waitMs: a.waitMs, maxHeld: 4096, maxBytes: MAX_JOIN_BYTES, wallMs }, (pid) => this.table.get(pid), (f) => this.push(f));
    // Through the join while audit may run; straight on once it cannot (startAudit).
    this.table = new ProcessTable({ maxProcesses: opts.maxProcesses, bootMs: opts.bootMs }, (f) => (this.join ? this.join.fact(f, performance.now()) : this.push(f)));
  }

  /**
   * Subscribes; rejects with the reason when the kernel will not send events here. `since` is the
   * moment just before the subscription on the processes' start-time scale (boot + 10 ms ticks):
   * a process that started later is announced by the kernel (polling leaves it alone, coverage.ts).
   */
  async start(): Promise<{ added: number; receiveBuffer: number; since: number }> {
    const since = startMsFromKernelTs(process.hrtime.bigint(), this.opts.bootMs);
    const conn = new ProcConnector(this.opts.receiveBuffer);
    try {
      await conn.listen(isAck);
    } catch (err) {
      conn.close();
      throw err;
    }
    this.conn = conn;
    conn.on('datagram', (d: Buffer) => {
      this.s.datagrams++;
      parseDatagram(d, this.onEvent);
    });
    conn.on('overrun', () => this.overrun());
    conn.on('error', (err: Error) => this.notice({ name: 'kernel.socket.error', level: 'warn', message: `kernel process events: ${err.message}` }));
    const { added } = this.table.scan('first');
    // Forked children that stay without exec (process-table.ts startForks says why).
    // No datagram since the last turn: the socket is empty (the loop would have read it), so the
    // clock may judge; otherwise only the events read so far may (an exec may still be queued).
    let read = this.s.datagrams;
    this.forkTimer = setInterval(() => {
      this.table.startForks(process.hrtime.bigint(), this.s.datagrams === read);
      read = this.s.datagrams;
    }, 500);
    if (this.flood) this.foldTimer = setInterval(() => this.sendFolded(), 1000);
    if (this.join) void this.startAudit(this.join, this.opts.audit!);
    return { added, receiveBuffer: conn.recvBufferBytes, since };
  }

  async stop(): Promise<void> {
    clearTimeout(this.resyncTimer);
    clearInterval(this.forkTimer);
    clearInterval(this.joinTimer);
    clearInterval(this.foldTimer);
    this.conn?.close();
    this.conn = undefined;
    await this.audit?.stop();
    this.auditRunning = false;
    this.join?.expire(Infinity);
    this.flush();
    this.sendFolded();
  }

  get stats(): SourceStats {
    const audit = this.opts.audit && { ...(this.join?.stats ?? {}), waiting: this.join?.waiting ?? 0, ...(this.audit?.stats ?? {}), running: this.auditRunning } as SourceStats['audit'];
    const h = getHeapStatistics();
    const heap = { rss: process.memoryUsage.rss(), used: h.used_heap_size, total: h.total_heap_size, external: h.external_memory };
    return { ...this.table.stats, ...this.s, receiveBuffer: this.conn?.recvBufferBytes ?? 0, table: this.table.size, audit, heap };
  }

  /**
   * Audit beside the proc connector: where it cannot run, starts are sent at once as before (the
   * join is left out) and one line says why (info under auto, warning when asked for).
   */
  private async startAudit(join: AuditJoin, a: NonNullable<SourceOptions['audit']>): Promise<void> {
    const off = (why: string) => {
      this.join = undefined;
      join.expire(Infinity);
      this.notice(a.asked
        ? { name: 'audit.unavailable', level: 'warn', message: `audit exec events UNAVAILABLE although collectors.audit.enabled is true: ${why}; exec command lines come from /proc` }
        : { name: 'audit.unavailable', level: 'info', message: `audit exec events off: ${why}; exec command lines come from /proc (collectors.audit.enabled: auto)` });
    };
    const blocker = auditBlocker(readFileSync('/proc/self/status', 'latin1'));
    if (blocker) return off(blocker);
    const audit = new AuditSource(a, (ev) => join.audit(ev, performance.now()), this.notice);
    try {
      const i = await audit.start();
      if (!this.conn) return void (await audit.stop()); // stopped meanwhile
      this.audit = audit;
      this.auditRunning = true;
      this.joinTimer = setInterval(() => join.expire(performance.now()), 100);
      const what = [
        i.added.length ? `${i.added.length} exec rules added (key dockward:${process.pid})` : '',
        i.coveredBy.length ? `${i.coveredBy.join('/')} execs already audited by an existing rule (left alone)` : '',
        i.enabledHere ? 'syscall auditing turned on (off again at stop)' : '',
        i.status.pid ? `audit daemon pid ${i.status.pid} keeps its stream` : 'no audit daemon registered: the kernel logs a few of these records to kmsg (rate-limited) and drops them',
        i.staleRemoved ? `${i.staleRemoved} rules of a stopped dockward removed` : '',
      ].filter(Boolean).join('; ');
      this.notice({ name: 'audit.started', level: 'info', message: `audit exec events: reading the audit multicast group; ${what}` });
    } catch (err) {
      off((err as Error).message);
    }
  }

  private readonly onEvent = (ev: ProcEvent): void => {
    this.s.events++;
    if (ev.what !== 'ack') this.table.handle(ev);
  };

  private push(f: ProcessFact): void {
    if (this.flood && !this.flood.admit(f)) return;
    this.batch.push(f);
    if (!this.flushing) {
      this.flushing = true;
      setImmediate(() => this.flush());
    }
  }

  private flush(): void {
    this.flushing = false;
    if (this.batch.length === 0) return;
    const b = this.batch;
    this.batch = [];
    this.onFacts(b);
  }

  private sendFolded(): void {
    const w = this.flood?.take();
    if (w?.length) this.onFolded!(w);
  }

  /** The kernel dropped events: a bigger buffer, then the table is brought in line with /proc. */
  private overrun(): void {
    this.s.overruns++;
    const conn = this.conn;
    if (!conn) return;
    const have = conn.recvBufferBytes;
    if (have < this.opts.maxReceiveBuffer) conn.setRecvBuffer(Math.min(this.opts.maxReceiveBuffer, have * 2));
    if (this.resyncTimer) return;
    this.notice({ name: 'kernel.overrun', level: 'warn', message: `kernel process events: the kernel dropped events (receive buffer full, now ${conn.recvBufferBytes} bytes); resyncing from /proc` });
    // One resync a second at most: during a storm each scan would be outdated at once.
    this.resyncTimer = setTimeout(() => {
      this.resyncTimer = undefined;
      if (!this.conn) return;
      const r = this.table.scan('resync');
      this.s.resyncs++;
      this.notice({ name: 'kernel.resync', level: 'info', message: `kernel process events: resync found ${r.added} processes missed, ${r.ended} ended unseen` });
    }, 1000);
  }
}

export function isAck(d: Buffer): boolean {
  let ack = false;
  parseDatagram(d, (ev) => {
    if (ev.what === 'ack' && ev.err === 0) ack = true;
  });
  return ack;
}
