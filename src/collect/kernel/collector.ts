import type { Counter } from 'prom-client';
import { z } from 'zod';
import { byteSize, duration } from '../../config/units';
import type { EngineEvent } from '../../docker/event-stream';
import { baseFields } from '../../enrich/ecs';
import type { ContainerMeta } from '../../enrich/metadata';
import { streamName } from '../../ship/envelope';
import type { Collector, CollectorContext } from '../collector';
import { DATASET, processDocument } from './documents';
import { argBytes } from './facts';
import { kernelEventsBlocker } from './netlink';
import { kernelCoverage, type KernelCoverage } from './coverage';
import { metrics } from './metrics';
import type { Leader, ProcessFact } from './process-table';
import { OverrunWatch } from './overruns';
import { ContainerUsers, reportUsersProblem } from './passwd';
import { bootTimeMs } from './procfs';
import type { FoldedWindow } from './flood';
import type { SourceOptions, SourceStats } from './source';
import { KernelReader, type ReaderMessage } from './reader';
import { auditMetrics, recordAudit } from '../audit/metrics';
import { readerOptions, type AuditConfig } from '../audit/source';

export { kernelCheckLine } from './metrics';

export const kernelConfig = z
  .object({
    /**
     * auto: on where it can run (root in the host's user and PID namespaces), one info line where
     * not; true: the same, but a warning when it cannot run; false: top polling only.
     * See docs/kernel-events.md.
     */
    enabled: z.union([z.boolean(), z.literal('auto')]).default('auto'),
    /** Processes remembered (for parents, sessions and end documents); the oldest go first. */
    max_processes: z.number().int().min(256).default(32768),
    /** Socket receive buffer asked for at start; doubled after each overrun up to max_receive_buffer. */
    receive_buffer: byteSize.prefault('4mib'),
    max_receive_buffer: byteSize.prefault('64mib'),
    /** Nice value of the kernel reader process's reading thread (-20…19): below 0 it wins the race against short processes on a busy host. */
    reader_nice: z.number().int().min(-20).max(19).default(-10),
    /** How long documents of a `docker exec` session wait for the engine to name the exec. */
    exec_wait: duration.prefault('2s'),
    /**
     * Process documents one container may cause per second (0: no limit); a document counts once
     * more per 4 KiB of command line it carries. Over it, identical starts fold into one document
     * with a count and distinct ones are kept up to max_folded_commands a second, so an exec flood
     * cannot freeze the thread every container shares (docs/kernel-events.md).
     */
    documents_per_second: z.number().int().min(0).default(100),
    /** Documents a container may cause at once before documents_per_second applies. */
    documents_burst: z.number().int().min(1).default(1000),
    /** Distinct command lines documented per container and second once over its budget. */
    max_folded_commands: z.number().int().min(1).default(64),
  })
  .strict()
  .prefault({});
export type KernelConfig = z.output<typeof kernelConfig>;

interface Session {
  leader: Leader;
  done: boolean;
  execId?: string;
  facts: ProcessFact[];
}

const MAX_SESSIONS = 4096;
const MAX_WAITING_FACTS = 50_000;
/**
 * Facts read and not yet handled: under an exec flood that outruns this thread the rest are
 * dropped and counted (dockward_kernel_dropped_total), bounding memory: by count, and by argument
 * bytes, since audit gives every exec its whole command line (up to 64 KiB, not /proc's 8 KiB).
 */
const MAX_BACKLOG = 10_000;
const MAX_BACKLOG_BYTES = 32 * 1024 * 1024;

/** Main-thread time one turn spends sending a session's waiting facts. */
const SLICE_MS = 20;

/**
 * Process starts and ends from the kernel's process-events connector, for every container, within
 * milliseconds of the exec: documents like the processes collector's, `event.provider: kernel`.
 * The socket, the /proc reads and the process table run in a reader process (source.ts, reader.ts), so a busy
 * main loop does not lose the race against short-lived processes; this side names the container
 * and the exec session and builds the documents. When it cannot run (not Linux, not root, a user
 * or PID namespace other than the host's) it says so in one line and stays idle: `top` polling
 * carries on.
 */
export class KernelCollector implements Collector {
  readonly name = 'kernel';
  private readonly index: string;
  private readonly base: Record<string, unknown>;
  private readonly bootMs = bootTimeMs();
  private reader: KernelReader | undefined;
  private offsetMs = 0;
  private clockTimer: NodeJS.Timeout | undefined;
  private readonly sessions = new Map<string, Session>();
  private readonly metas = new Map<string, ContainerMeta | null>();
  private readonly users = new ContainerUsers({}, (p) => reportUsersProblem(this.ctx, p));
  private readonly overruns = new OverrunWatch((n, ms) => this.ctx.tamper?.({ container: 'host', kind: 'kernel-overrun', detail: `${n} kernel overruns within ${ms / 1000} s` }));
  private readonly execByPid = new Map<string, string>();
  private waiting = 0;
  /** Facts from the reader not yet handled (see take()). */
  private backlog: ProcessFact[] = [];
  private backlogBytes = 0;
  private draining = false;
  private running = false;
  private last: SourceStats | undefined;
  private readonly m: ReturnType<typeof metrics>;
  private readonly onEngineEvent = (ev: EngineEvent) => this.engineEvent(ev);
  private readonly coverage: KernelCoverage;

  private readonly am: ReturnType<typeof auditMetrics>;

  constructor(private readonly ctx: CollectorContext, private readonly cfg: KernelConfig, private readonly audit?: AuditConfig) {
    this.am = auditMetrics(ctx);
    this.index = streamName('logs', DATASET, ctx.namespace);
    this.base = baseFields('logs', DATASET, ctx.namespace);
    this.m = metrics(ctx);
    this.coverage = kernelCoverage(ctx);
  }

  async start(): Promise<void> {
    const blocker = kernelEventsBlocker() ?? (this.bootMs === undefined ? 'no boot time in /proc/stat' : undefined);
    if (blocker) return this.unavailable(blocker);
    this.running = true;
    this.syncClock();
    this.clockTimer = setInterval(() => this.syncClock(), 60_000).unref();
    this.ctx.events.on('event', this.onEngineEvent);
    const opts: SourceOptions = { maxProcesses: this.cfg.max_processes, receiveBuffer: this.cfg.receive_buffer, maxReceiveBuffer: this.cfg.max_receive_buffer, bootMs: this.bootMs!, audit: readerOptions(this.audit),
      flood: { rate: this.cfg.documents_per_second, burst: this.cfg.documents_burst, maxKinds: this.cfg.max_folded_commands },
    };
    const reader = new KernelReader({ ...opts, nice: this.cfg.reader_nice }, (m) => this.message(m), (why, wait) => this.crashed(why, wait));
    this.reader = reader;
    const why = await reader.start();
    if (why) {
      this.running = false;
      this.ctx.events.off('event', this.onEngineEvent);
      clearInterval(this.clockTimer);
      await reader.stop();
      this.reader = undefined;
      this.unavailable(why);
    }
  }

  private message(m: ReaderMessage): void {
    switch (m.kind) {
      case 'ready':
        this.m.available.set(1);
        this.coverage.subscribed(m.since);
        this.ctx.telemetry.event('kernel.started', 'info', `kernel process events: subscribed (receive buffer ${m.receiveBuffer} bytes), ${m.added} container processes found in /proc`);
        return;
      case 'unavailable':
        return;
      case 'facts':
        return this.take(m.facts);
      case 'folded':
        return this.folded(m.windows);
      case 'notice':
        // Between an overrun and its resync the kernel may have missed processes: polling helps.
        if (m.notice.name === 'kernel.overrun' || m.notice.name === 'kernel.resync') this.coverage.setHealthy(m.notice.name === 'kernel.resync');
        if (m.notice.name === 'kernel.overrun') this.overruns.overrun();
        return this.ctx.telemetry.event(m.notice.name, m.notice.level, m.notice.message);
      case 'stats':
        return this.record(m.stats);
    }
  }

  /** The reader died: polling covers the gap until the next one subscribed; its counters start again from 0. */
  private crashed(why: string, restartInMs: number): void {
    this.coverage.stopped();
    this.m.available.set(0);
    this.m.restarts.inc();
    this.last = undefined;
    this.ctx.telemetry.event('kernel.reader.crashed', 'warn', `kernel process events: ${why}; restarting in ${restartInMs} ms (processes are seen by top polling meanwhile)`);
    this.ctx.tamper?.({ container: 'host', kind: 'kernel-reader-crash', detail: `${why}; restarted after ${restartInMs} ms` });
  }

  async stop(): Promise<void> {
    this.running = false;
    this.coverage.stopped();
    this.ctx.events.off('event', this.onEngineEvent);
    clearInterval(this.clockTimer);
    await this.reader?.stop();
    this.reader = undefined;
    // Facts still waiting for their container or exec session go out as they are.
    this.backlogBytes = 0;
    for (const f of this.backlog.splice(0)) this.fact(f);
    for (const s of this.sessions.values()) this.flush(s, true);
  }

  /** The reader's counters, as of its last report (every second). */
  get stats(): SourceStats | undefined {
    return this.last;
  }

  /** auto: one info line (expected where dockward is not root); true: asked for, so a warning. */
  private unavailable(reason: string): void {
    this.m.available.set(0);
    this.coverage.stopped();
    const asked = this.cfg.enabled === true;
    this.ctx.telemetry.event('kernel.unavailable', asked ? 'warn' : 'info', asked
      ? `kernel process events UNAVAILABLE although collectors.kernel.enabled is true: ${reason}; processes are seen by top polling only`
      : `kernel process events off: ${reason}; processes are seen by top polling only (collectors.kernel.enabled: auto)`);
    if (this.audit?.enabled === true) this.ctx.telemetry.event('audit.unavailable', 'warn', `audit exec events UNAVAILABLE although collectors.audit.enabled is true: they need kernel process events (${reason})`);
  }

  /** Worker counters are totals: the Prometheus counters grow by the difference. */
  private record(s: SourceStats): void {
    const prev = this.last;
    this.last = s;
    const inc = (c: Counter<string>, key: keyof SourceStats, labels?: Record<string, string>) => {
      const d = (s[key] as number) - ((prev?.[key] as number | undefined) ?? 0);
      if (d > 0) (labels ? c.inc(labels, d) : c.inc(d));
    };
    inc(this.m.datagrams, 'datagrams');
    inc(this.m.overruns, 'overruns');
    inc(this.m.resyncs, 'resyncs');
    inc(this.m.execs, 'cmdlineRead', { result: 'read' });
    inc(this.m.execs, 'exitRace', { result: 'exit_race' });
    inc(this.m.execs, 'unattributed', { result: 'unattributed' });
    inc(this.m.execs, 'noexec', { result: 'noexec' });
    inc(this.m.execs, 'forkOnly', { result: 'fork_only' });
    inc(this.m.evicted, 'evicted');
    inc(this.m.reused, 'reused');
    this.m.rcvbuf.set(s.receiveBuffer);
    this.m.table.set(s.table);
    for (const kind of ['rss', 'used', 'total', 'external'] as const) this.m.heap.set({ kind }, s.heap[kind]);
    if (s.audit) recordAudit(this.am, prev?.audit, s.audit);
  }

  private syncClock(): void {
    this.offsetMs = Date.now() - Number(process.hrtime.bigint() / 1_000_000n);
  }

  private wallMs = (ts: bigint): number => Number(ts / 1000n) / 1000 + this.offsetMs;

  /**
   * Facts from the reader go through one FIFO drained SLICE_MS per turn: a message may carry
   * thousands (an exec flood), and documents, rules and the spool all run on this thread.
   */
  private take(all: ProcessFact[]): void {
    let facts = all;
    if (this.backlog.length + facts.length > MAX_BACKLOG) {
      const room = Math.max(0, MAX_BACKLOG - this.backlog.length);
      this.m.dropped.inc(facts.length - room);
      facts = facts.slice(0, room);
    }
    for (let k = 0; k < facts.length; k++) {
      const b = argBytes(facts[k].args);
      if (this.backlogBytes + b > MAX_BACKLOG_BYTES && this.backlog.length > 0) {
        this.m.dropped.inc(facts.length - k);
        break;
      }
      this.backlogBytes += b;
      this.backlog.push(facts[k]);
    }
    if (!this.draining) this.drain();
  }

  private drain(): void {
    this.draining = false;
    const end = performance.now() + SLICE_MS;
    let i = 0;
    while (i < this.backlog.length && (i === 0 || performance.now() <= end)) {
      const f = this.backlog[i++];
      this.backlogBytes -= argBytes(f.args);
      this.fact(f);
    }
    this.backlog = i === this.backlog.length ? [] : this.backlog.slice(i);
    if (this.backlog.length) {
      this.draining = true;
      setImmediate(() => this.drain());
    }
  }

  /** Once a second from the reader: the documents standing for what each flooding container folded, and its report. */
  private folded(windows: FoldedWindow[]): void {
    for (const w of windows) {
      for (const f of w.facts) this.fact(f);
      this.m.folded.inc({ result: 'folded' }, w.starts - w.dropped - w.facts.length);
      this.m.folded.inc({ result: 'ended' }, w.ends);
      this.m.folded.inc({ result: 'dropped' }, w.dropped);
      if (w.starts > 0) {
        this.ctx.tamper?.({
          container: w.container,
          kind: 'exec-flood',
          detail: `${w.starts} process starts over collectors.kernel.documents_per_second (${this.cfg.documents_per_second}) within 1 s: ${w.facts.length} documents stand for them (dockward.process.folded.count), ${w.dropped} distinct commands past max_folded_commands dropped, ${w.ends} ends not documented`,
        });
      }
    }
  }

  private fact(f: ProcessFact): void {
    // The container's users, once (passwd.ts): its documents wait for them in resolve().
    if (f.type === 'start') this.users.want(f.container, [f.pid, f.leader.pid]);
    const key = `${f.container}:${f.leader.pid}:${f.leader.start ?? ''}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = { leader: f.leader, done: false, facts: [] };
      this.sessions.set(key, s);
      if (this.sessions.size > MAX_SESSIONS) this.evictSession();
      void this.resolve(s);
    }
    if (s.done && s.facts.length === 0) return this.send(f, s);
    if (this.waiting >= MAX_WAITING_FACTS) {
      this.m.dropped.inc();
      return;
    }
    s.facts.push(f);
    this.waiting++;
  }

  private evictSession(): void {
    for (const [k, s] of this.sessions) {
      if (s.done && s.facts.length === 0) {
        this.sessions.delete(k);
        return;
      }
    }
  }

  /** Container metadata, then (for a session other than the container's init) the exec id. */
  private async resolve(s: Session): Promise<void> {
    const cid = s.leader.container;
    try {
      const users = this.users.ready(cid);
      if (!this.metas.has(cid)) this.metas.set(cid, (await this.ctx.metadata.get(cid)) ?? null);
      await users;
      if (s.leader.vpid !== undefined && s.leader.vpid !== 1) s.execId = await this.execOf(cid, s.leader.pid);
    } catch (err) {
      this.ctx.telemetry.event('kernel.metadata.failed', 'debug', `kernel process events: container ${cid.slice(0, 12)}: ${(err as Error).message}`);
    }
    this.flush(s);
  }

  /**
   * Sends a session's waiting facts in order, SLICE_MS of main-thread time per turn: an exec flood
   * while a new container's metadata was looked up leaves thousands waiting, and sending them in
   * one turn froze /health for seconds. `all` (at stop) sends everything now.
   */
  private flush(s: Session, all = false): void {
    s.done = true;
    const end = performance.now() + SLICE_MS;
    let i = 0;
    for (; i < s.facts.length; i++) {
      if (!all && i > 0 && performance.now() > end) break;
      this.send(s.facts[i], s);
    }
    this.waiting -= i;
    s.facts = i === s.facts.length ? [] : s.facts.slice(i);
    if (s.facts.length) setImmediate(() => this.flush(s));
  }

  /** The exec whose process is `pid`, from the engine's exec_start events (waits up to exec_wait). */
  private async execOf(cid: string, pid: number): Promise<string | undefined> {
    const key = `${cid}:${pid}`;
    const end = Date.now() + this.cfg.exec_wait;
    while (this.running) {
      const id = this.execByPid.get(key);
      if (id || Date.now() >= end) return id;
      await new Promise((r) => setTimeout(r, 25));
    }
    return this.execByPid.get(key);
  }

  private engineEvent(ev: EngineEvent): void {
    if (ev.Type !== 'container') return;
    if (ev.Action === 'destroy') {
      this.metas.delete(ev.Actor.ID);
      this.users.forget(ev.Actor.ID);
      return;
    }
    if (ev.Action === 'rename' || ev.Action === 'update') this.metas.delete(ev.Actor.ID);
    if (!ev.Action.startsWith('exec_start')) return;
    const execId = ev.Actor.Attributes?.execID;
    if (execId) void this.learnExec(ev.Actor.ID, execId);
  }

  /** exec inspect until it names the exec's host pid (0 until the runtime started it). */
  private async learnExec(cid: string, execId: string): Promise<void> {
    for (let i = 0; i < 40 && this.running; i++) {
      try {
        const info = (await this.ctx.docker.getExec(execId).inspect()) as { Pid?: number };
        if (info.Pid) {
          this.execByPid.set(`${cid}:${info.Pid}`, execId);
          if (this.execByPid.size > MAX_SESSIONS) this.execByPid.delete(this.execByPid.keys().next().value as string);
          return;
        }
      } catch {
        return; // gone
      }
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  private send(f: ProcessFact, s: Session): void {
    const meta = this.metas.get(f.container) ?? undefined;
    const pw = this.users.get(f.container);
    const env = processDocument(f, {
      index: this.index, base: this.base, meta, execId: s.execId, now: Date.now(), wallMs: this.wallMs,
      userName: (uid) => pw?.get(uid),
    });
    this.m.documents.inc({ type: f.type });
    this.ctx.output.send(env);
  }
}
