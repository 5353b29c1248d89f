/**
 * The per-container signals the anomaly model reads, built from the documents dockward already
 * ships: one vector per stats document, with the counters of process/exec/log/file documents seen since
 * the previous one turned into per-minute rates. Block I/O comes as running totals, so rates are
 * taken here from our own previous sample.
 */
type Doc = Record<string, unknown>;

export const SIGNALS = ['cpu', 'memory', 'network_rx', 'network_tx', 'disk_read', 'disk_write', 'pids', 'process_starts', 'exec_sessions', 'log_lines', 'stderr_share', 'new_files'] as const;
export type Signal = (typeof SIGNALS)[number];

/** What the signal means, for explanations. */
export const SIGNAL_LABEL: Record<Signal, string> = {
  cpu: 'CPU %',
  memory: 'memory (MiB)',
  network_rx: 'network received (KiB/s)',
  network_tx: 'network sent (KiB/s)',
  disk_read: 'disk read (KiB/s)',
  disk_write: 'disk written (KiB/s)',
  pids: 'processes',
  process_starts: 'process starts per minute',
  exec_sessions: 'exec sessions per minute',
  log_lines: 'log lines per minute',
  stderr_share: 'share of log lines on stderr (%)',
  new_files: 'new files per minute',
};

/**
 * The smallest standard deviation each level baseline assumes, in the units above: noise below it
 * is never a deviation (an idle container's CPU wobbles by a few tenths of a percent).
 */
export const SIGNAL_FLOOR: Record<Signal, number> = {
  cpu: 5,
  memory: 16,
  network_rx: 64,
  network_tx: 64,
  disk_read: 256,
  disk_write: 256,
  pids: 2,
  process_starts: 2,
  exec_sessions: 1,
  log_lines: 30,
  stderr_share: 10,
  // Drift scans once a minute while stats come every few seconds, so a steady file or two a minute
  // reads as a burst in one interval and 0 in the others: the floor keeps that rhythm ordinary.
  new_files: 10,
};

export type Vector = Partial<Record<Signal, number>>;

interface Counters {
  processStarts: number;
  execSessions: number;
  logLines: number;
  stderrLines: number;
  newFiles: number;
}

/** Per-container accumulation between two stats documents. */
export class SignalAccumulator {
  private counters: Counters = empty();
  private prev: { ms: number; read: number; write: number } | undefined;
  /** The last interval's counts and length: see `log_lines` in fromStats. */
  private last = { lines: 0, starts: 0, execs: 0, secs: 0 };

  countProcess(doc: Doc): void {
    const ev = doc.event as { type?: string[]; provider?: string; action?: string } | undefined;
    if (!ev?.type?.includes('start')) return;
    // A container's first `top` snapshot lists processes that may have started long ago; a kernel
    // resync after an overrun re-documents processes that polling covered meanwhile (same _id,
    // stored once, but counted here before the store could tell).
    const p = (doc.dockward as { process?: { first_snapshot?: boolean; resync?: boolean } } | undefined)?.process;
    if (p?.first_snapshot || p?.resync) return;
    if (ev.provider === 'exec') this.counters.execSessions++;
    else this.counters.processStarts++;
  }

  countLog(doc: Doc): void {
    this.counters.logLines++;
    if (doc.stream === 'stderr') this.counters.stderrLines++;
  }

  /**
   * A drift document (dockward.file) for a path that appeared in the container's filesystem diff.
   * The first scan of a container reports its whole diff (`dockward.drift.baseline`): files
   * written long before dockward looked, not new ones.
   */
  countFile(doc: Doc): void {
    const ev = doc.event as { type?: string[] } | undefined;
    if (!ev?.type?.includes('creation')) return;
    if ((doc.dockward as { drift?: { baseline?: boolean } } | undefined)?.drift?.baseline) return;
    this.counters.newFiles++;
  }

  /** The vector for a stats document; undefined for the first one (no interval yet). */
  fromStats(doc: Doc): Vector | undefined {
    const ms = Date.parse(String(doc['@timestamp']));
    const d = doc.docker as { cpu?: { pct?: number }; memory?: { usage?: { bytes?: number } }; network?: { rx?: { rate?: number }; tx?: { rate?: number } }; pids?: number } | undefined;
    const disk = (doc.container as { disk?: { read?: { bytes?: number }; write?: { bytes?: number } } } | undefined)?.disk;
    const read = disk?.read?.bytes ?? 0;
    const write = disk?.write?.bytes ?? 0;
    const prev = this.prev;
    this.prev = { ms, read, write };
    const c = this.counters;
    this.counters = empty();
    if (!prev || !(ms > prev.ms)) return undefined;
    const secs = (ms - prev.ms) / 1000;
    const perMin = 60 / secs;
    // Over this interval and the one before: log lines and process starts come on streams of
    // their own, so one a little late falls into the next interval (1 line/s read as 0, then 4
    // per 2 s; CI at cfdb1a7: a start a second read as 88 a minute, "beyond every value seen");
    // two intervals together keep the rate, a burst still stands out.
    const l = this.last;
    const both = (n: number, before: number) => ((n + before) * 60) / (secs + l.secs);
    const v: Vector = {
      process_starts: both(c.processStarts, l.starts),
      exec_sessions: both(c.execSessions, l.execs),
      log_lines: both(c.logLines, l.lines),
      stderr_share: c.logLines ? (100 * c.stderrLines) / c.logLines : 0,
      new_files: c.newFiles * perMin,
      disk_read: Math.max(0, read - prev.read) / secs / 1024,
      disk_write: Math.max(0, write - prev.write) / secs / 1024,
    };
    this.last = { lines: c.logLines, starts: c.processStarts, execs: c.execSessions, secs };
    if (d?.cpu?.pct !== undefined) v.cpu = d.cpu.pct;
    if (d?.memory?.usage?.bytes !== undefined) v.memory = d.memory.usage.bytes / 2 ** 20;
    if (d?.network?.rx?.rate !== undefined) v.network_rx = d.network.rx.rate / 1024;
    if (d?.network?.tx?.rate !== undefined) v.network_tx = d.network.tx.rate / 1024;
    if (d?.pids !== undefined) v.pids = d.pids;
    return v;
  }
}

function empty(): Counters {
  return { processStarts: 0, execSessions: 0, logLines: 0, stderrLines: 0, newFiles: 0 };
}
