/**
 * The disk spool: the durable, bounded hand-over between the flow and the Elasticsearch sink.
 *
 * Invariants
 * - Layout: `<dir>/<16-digit number>.seg`, numbered in write order; one tail segment is written,
 *   segments are read in number order, each from its start. The directory is 0700 and segments
 *   are 0600 (they hold every container's log lines): a segment is created new (O_EXCL, never
 *   through a symlink); an entry named like a segment that is not a regular file is skipped.
 * - Record format: [u32 BE payload length][u32 BE CRC-32 of the payload][payload], where the payload
 *   is UTF-8 `JSON.stringify([index, id])` + "\n" + the document's JSON.
 * - Bad records: a record whose length is impossible or whose CRC-32 does not match (a write torn
 *   by a crash, a damaged file) costs only its own bytes: the reader scans forward for the next
 *   offset where a length and a CRC-32 check out and goes on from there. A record whose CRC checks
 *   but whose payload is not `[index, id]` + "\n" + one line of JSON is skipped as one record. Both
 *   are counted and logged with file and offset (`spool.corrupt`, the first few per segment, then
 *   a summary), and, unless it is a crash's torn tail, /health turns degraded. Reading never throws.
 * - Durability: appends are written to the file once per event-loop turn and fsync'd when a segment
 *   rolls and every `fsync_interval`. A crash can lose only the unsynced tail, and nothing there is
 *   lost for good: sources move their cursors on Elasticsearch's acknowledgement, never on the
 *   spool's, so those documents are read again from the engine. (Under queue.replayable: memory,
 *   the default, container log lines do not come here at all: split-queue.ts.)
 * - Write failures (a full disk, an I/O error): the records stay in memory, in order, up to
 *   HELD_MAX_BYTES (or max_bytes if smaller); `writable` turns false, so collectors that can read
 *   again later (container logs) pause and leave their lines in the engine; `spool.write_failed` is
 *   said once and /health is degraded; the write is retried with backoff (100 ms to 5 s) and, once
 *   it works, everything held is written in order (`spool.write_recovered`). Past the memory bound
 *   a record is dropped: counted as `dropped`, said once (`spool.overflow`). Nothing is thrown.
 * - Deletion: a segment is deleted when the writer has moved past it, the reader has read all of it,
 *   and every record read from it has a final outcome (acked, duplicate, dead-lettered, dropped).
 * - Restart: segments left by an earlier run are read again from their start. Records delivered
 *   before the crash are sent again and come back as 409 duplicates (deterministic ids), so no
 *   per-record acknowledgement file is needed.
 * - Full: at `max_bytes` on disk, `writable` turns false and collectors stop reading (a paused log
 *   stream leaves its lines in the engine's log files: lag, not loss). A record is never refused
 *   while the disk takes writes, since its source has already read it; the bound can be passed by
 *   what producers held in hand.
 * - Shutdown: records pushed after `close` (late async sends) are still written and replayed by the
 *   next run; after `dispose` the tail's descriptor is closed (its number may already belong to
 *   another file), so a record pushed then is not written, gets no outcome (its source's cursor
 *   stays before it) and is counted as `spool.late`.
 */
import { closeSync, fsync, fsyncSync, ftruncateSync, mkdirSync, readdirSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { byteSize, duration } from '../config/units';
import { DIR_MODE, privateDir } from '../state/state-file';
import type { Telemetry } from '../telemetry/telemetry';
import type { AckToken, Envelope } from './envelope';
import type { PollableQueue, Queued } from './queue';
import { createSegment, HEADER, openOld, SEGMENT_NAME, SegmentReader, type Segment } from './spool-segment';

export const spoolConfig = z
  .object({
    /** Bound on disk; collectors pause beyond it. */
    max_bytes: byteSize.prefault('1gib'),
    segment_bytes: byteSize.prefault('16mib'),
    fsync_interval: duration.prefault('1s'),
  })
  .strict()
  .prefault({});
export type SpoolConfig = z.output<typeof spoolConfig>;

/** Records held in memory while the disk refuses writes (or max_bytes, if smaller). */
export const HELD_MAX_BYTES = 64 * 1024 * 1024;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 5000;
/** Bad records of one segment logged one by one; past them, one summary when the segment is read. */
const BAD_LOGGED = 3;

export class DiskSpool implements PollableQueue {
  private readonly segments: Segment[] = [];
  private tail: Segment | undefined;
  private pending: Buffer[] = [];
  private pendingTokens: Array<AckToken | undefined> = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private readSeg = 0; // index into segments
  private readonly reader = new SegmentReader();
  private waiting = 0; // records this run wrote and the sink has not taken yet
  private diskBytes = 0;
  private writers: Array<() => void> = [];
  private readonly takers = new Set<() => void>();
  private closed = false;
  private disposed = false;
  private readonly syncTimer: NodeJS.Timeout;
  private nextNum = 1;
  private dirReady = false;
  private readonly heldMax: number;
  /** Set while writes fail: since when, the next retry's delay, records dropped past the memory bound. */
  private failing: { since: number; delay: number; dropped: number } | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  /** bad records skipped in this run, in every segment (for /health) */
  private badTotal = 0;
  /** the number of the newest segment an earlier run left: the only one a crash can tear */
  private lastOld = 0;

  constructor(private readonly dir: string, private readonly cfg: SpoolConfig, private readonly telemetry: Telemetry) {
    this.heldMax = Math.min(HELD_MAX_BYTES, cfg.max_bytes);
    let names: string[] = [];
    try {
      const open = privateDir(dir, true);
      this.dirReady = true;
      if (open !== undefined) telemetry.event('spool.dir.open', 'warn', `spool directory ${dir} has mode ${open.toString(8)} and could not be set to 700: other users may read container logs from it`, { file: { path: dir } });
      names = readdirSync(dir).filter((n) => SEGMENT_NAME.test(n)).sort();
    } catch {
      // Not creatable or not listable now (a full disk): the first write tries again and says why.
    }
    for (const name of names) this.reopen(name);
    if (this.segments.length) {
      telemetry.event('spool.replay', 'info', `spool: ${this.segments.length} segment(s), ${this.diskBytes} bytes from an earlier run will be sent again (delivered ones come back as duplicates)`);
    }
    try {
      this.roll();
    } catch (err) {
      this.writeFailed(err as Error);
    }
    this.syncTimer = setInterval(() => this.sync(), cfg.fsync_interval);
    this.syncTimer.unref();
  }

  /** An earlier run's segment, for reading; one that is not a regular file is skipped and said. */
  private reopen(name: string): void {
    const num = Number(name.slice(0, 16));
    this.nextNum = Math.max(this.nextNum, num + 1);
    try {
      const seg = openOld(this.dir, name);
      this.lastOld = num;
      this.segments.push(seg);
      this.diskBytes += seg.size;
    } catch (err) {
      const path = join(this.dir, name);
      const why = (err as Error).message;
      this.telemetry.event('spool.segment_skipped', 'error', `spool: ${path} is not a readable segment (${why}); left in place and not read`, { file: { path } });
      this.telemetry.health.degrade(`spool.segment ${path}`, `${path} skipped: ${why}`);
    }
  }

  push(env: Envelope): void {
    if (this.disposed) {
      this.telemetry.event('spool.late', 'warn', `spool: a document for ${env.index} arrived after shutdown closed the spool; not written`);
      return;
    }
    if (this.failing !== undefined && this.pendingBytes >= this.heldMax) return this.overflow(env);
    const head = Buffer.from(JSON.stringify([env.index, env.id]) + '\n' + (env.json ?? JSON.stringify(env.doc)));
    const rec = Buffer.allocUnsafe(HEADER);
    rec.writeUInt32BE(head.length, 0);
    rec.writeUInt32BE(crc32(head), 4);
    this.pending.push(rec, head);
    this.pendingTokens.push(env.ack);
    this.pendingBytes += HEADER + head.length;
    // while writes fail, the retry timer writes: not every turn
    if (!this.flushScheduled && this.failing === undefined) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  get writable(): boolean {
    return this.failing === undefined && this.diskBytes + this.pendingBytes < this.cfg.max_bytes;
  }

  whenWritable(): Promise<void> {
    if (this.writable || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.writers.push(resolve));
  }

  /** Documents of this run waiting for the sink (an earlier run's replayed segments are not counted). */
  get size(): number {
    return this.waiting + this.pendingTokens.length;
  }

  get byteSize(): number {
    return this.diskBytes + this.pendingBytes;
  }

  /** Seconds since the oldest segment still on disk was started. */
  get ageSeconds(): number {
    return this.segments.length ? (Date.now() - this.segments[0].created) / 1000 : 0;
  }

  get spooled(): { bytes: number; records: number; ageSeconds: number } {
    return { bytes: this.byteSize, records: this.size, ageSeconds: this.ageSeconds };
  }

  poll(maxDocs: number, maxBytes: number): Queued[] {
    this.flush();
    const out: Queued[] = [];
    for (let bytes = 0; out.length < maxDocs && bytes < maxBytes; ) {
      const q = this.readOne();
      if (!q) break;
      out.push(q);
      bytes += q.bytes;
    }
    return out;
  }

  /** Woken by the next write (or close); what was written before is for poll to find. */
  whenReadable(): Promise<void> {
    if (this.closed || this.pendingTokens.length > 0) return Promise.resolve();
    return this.nextWrite();
  }

  async take(maxDocs: number, maxBytes: number, lingerMs: number): Promise<Queued[]> {
    const out: Queued[] = [];
    let bytes = 0;
    const deadline = Date.now() + lingerMs;
    for (;;) {
      for (const q of this.poll(maxDocs - out.length, maxBytes - bytes)) {
        out.push(q);
        bytes += q.bytes;
      }
      if (out.length >= maxDocs || bytes >= maxBytes || this.closed) return out;
      const left = out.length ? deadline - Date.now() : Infinity;
      if (left <= 0) return out;
      await this.nextWrite(Number.isFinite(left) ? left : undefined);
    }
  }

  private nextWrite(timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        this.takers.delete(wake);
        resolve();
      };
      this.takers.add(wake);
      if (timeoutMs !== undefined) setTimeout(wake, timeoutMs);
    });
  }

  close(): void {
    // one more attempt when writes fail: the disk may have room again
    if (this.failing) this.write();
    else this.flush();
    this.sync(true);
    this.closed = true;
    clearInterval(this.syncTimer);
    this.wakeTakers();
    for (const w of this.writers.splice(0)) w();
  }

  /** After the sink stopped: a tail whose every record is done is deleted, so a restart has nothing to replay. */
  dispose(): void {
    if (this.disposed) return;
    this.close();
    this.disposed = true;
    clearTimeout(this.retryTimer);
    if (this.pendingTokens.length) {
      // no outcome: their sources' cursors stay before them, so those that can re-read them do
      this.telemetry.event('spool.unwritten', 'error', `spool: ${this.pendingTokens.length} record(s) were never written (the disk refused them) and are lost, except those their source reads again next run (container logs, engine events)`);
      this.pending = [];
      this.pendingTokens = [];
      this.pendingBytes = 0;
    }
    const t = this.tail;
    if (!t) return;
    if (this.readSeg === this.segments.indexOf(t) && this.reader.off >= t.end && t.done === t.read) {
      t.finished = true;
      this.maybeDelete(t);
    } else this.closeFd(t);
  }

  /** Writes what was pushed this turn, in one system call. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.failing !== undefined || this.pending.length === 0 || this.disposed) return;
    this.write();
  }

  /** Writes what is pending and rolls when due; a failure keeps it pending (see writeFailed). */
  private write(): void {
    let wrote = false;
    try {
      // a roll that failed before, or a tail whose record count a bad region made unknown
      if (!this.tail || this.tail.size >= this.cfg.segment_bytes || !this.tail.tokens) this.roll();
      const t = this.tail!;
      if (this.pending.length) {
        const buf = Buffer.concat(this.pending, this.pendingBytes);
        // positional writes (no O_APPEND): a short or failed write is written again at the same place
        for (let off = 0; off < buf.length; ) {
          const n = writeSync(t.fd, buf, off, buf.length - off, t.size + off);
          if (n <= 0) throw new Error(`write of ${buf.length - off} bytes wrote nothing`);
          off += n;
        }
        t.size += buf.length;
        t.end = t.size;
        for (const tok of this.pendingTokens) t.tokens!.push(tok);
        this.diskBytes += buf.length;
        this.waiting += this.pendingTokens.length;
        this.pending = [];
        this.pendingTokens = [];
        this.pendingBytes = 0;
        wrote = true;
        this.telemetry.setQueueBytes(this.diskBytes);
      }
      // after a failure, recovery is a write and an fsync that both worked
      if (this.failing) fsyncSync(t.fd);
      if (t.size >= this.cfg.segment_bytes) this.roll();
      if (this.failing) this.recovered();
    } catch (err) {
      this.writeFailed(err as Error);
    }
    if (wrote) this.wakeTakers();
  }

  private writeFailed(err: Error): void {
    const t = this.tail;
    // give back what a short write took: a full disk needs every block
    if (t && t.fd >= 0) {
      try {
        ftruncateSync(t.fd, t.size);
      } catch {
        // the next write overwrites those bytes anyway
      }
    }
    const code = (err as NodeJS.ErrnoException).code;
    if (!this.failing) {
      this.failing = { since: Date.now(), delay: RETRY_MIN_MS, dropped: 0 };
      this.telemetry.event('spool.write_failed', 'error', `spool: cannot write to ${t?.path ?? this.dir}: ${err.message}; ${this.pendingTokens.length} record(s) are kept in memory (up to ${this.heldMax} bytes) and collectors that can read again later pause; retrying`, { error: { code } });
    } else this.failing.delay = Math.min(this.failing.delay * 2, RETRY_MAX_MS);
    this.telemetry.health.degrade('spool', `cannot write to ${this.dir}: ${err.message}`);
    clearTimeout(this.retryTimer);
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      if (!this.disposed) this.write();
    }, this.failing.delay);
    // not unref'd: records wait in memory for it; dispose() clears it
  }

  private recovered(): void {
    const f = this.failing!;
    this.failing = undefined;
    clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const lost = f.dropped ? `; ${f.dropped} record(s) were dropped meanwhile, past the memory bound` : '';
    this.telemetry.event('spool.write_recovered', 'info', `spool: writing to ${this.dir} again after ${Math.round((Date.now() - f.since) / 1000)} s${lost}`);
    this.telemetry.health.clear('spool');
    if (this.writable) for (const w of this.writers.splice(0)) w();
  }

  /** A record pushed while writes fail and memory holds its bound already: dropped, counted. */
  private overflow(env: Envelope): void {
    const f = this.failing!;
    if (f.dropped++ === 0) {
      this.telemetry.event('spool.overflow', 'error', `spool: ${this.pendingBytes} bytes of records wait in memory for the disk; records pushed until writes work again are dropped (counted as dropped)`);
    }
    this.telemetry.documents.inc({ outcome: 'dropped' });
    env.ack?.done('dropped');
  }

  private wakeTakers(): void {
    for (const wake of [...this.takers]) wake();
  }

  /** Opens the next segment (new, 0600) and makes it the tail; throws, changing nothing, if it cannot. */
  private roll(): void {
    if (!this.dirReady) mkdirSync(this.dir, { recursive: true, mode: DIR_MODE });
    this.dirReady = true;
    const seg = createSegment(this.dir, this.nextNum);
    this.nextNum = seg.num + 1;
    const old = this.tail;
    this.segments.push(seg);
    this.tail = seg;
    if (old) this.syncSeg(old);
  }

  private sync(now = false): void {
    if (this.tail) this.syncSeg(this.tail, now);
  }

  /**
   * fsync off the main thread (the periodic one and a rolled segment's): under heavy disk I/O one
   * fsync took hundreds of milliseconds, during which /health and every stream waited. `now`
   * (at close) waits for it.
   */
  private syncSeg(seg: Segment, now = false): void {
    if (seg.fd < 0 || seg.syncing) return;
    if (now) {
      try {
        fsyncSync(seg.fd);
      } catch (err) {
        this.syncFailed(seg, err as Error);
      }
      return;
    }
    seg.syncing = true;
    fsync(seg.fd, (err) => {
      seg.syncing = false;
      if (err) this.syncFailed(seg, err);
      if (seg.closeAfterSync) this.closeFd(seg);
    });
  }

  private syncFailed(seg: Segment, err: Error): void {
    // What was written may not be on disk: the next write must fsync too before it counts.
    if (seg === this.tail && seg.fd >= 0) this.writeFailed(err);
    else this.telemetry.event('spool.sync_failed', 'error', `spool: cannot fsync ${seg.path}: ${err.message}`);
  }

  private closeFd(seg: Segment): void {
    if (seg.fd < 0) return;
    if (seg.syncing) {
      seg.closeAfterSync = true;
      return;
    }
    try {
      closeSync(seg.fd);
    } catch {
      // closed is what was wanted
    }
    seg.fd = -1;
  }

  /** The next record for the sink, or undefined when everything written has been read. Never throws. */
  private readOne(): Queued | undefined {
    for (;;) {
      const seg = this.segments[this.readSeg];
      if (!seg) return undefined;
      let rec: Queued | undefined;
      try {
        rec = this.parseAt(seg);
      } catch (err) {
        // an I/O error, or a file changed under the reader: what is left of it is not read
        this.badRegion(seg, this.reader.off, seg.end, `cannot read (${(err as Error).message})`);
        this.reader.off = seg.end;
        continue;
      }
      if (rec) return rec;
      if (seg === this.tail) return undefined;
      // The reader is done with a segment the writer has left: it may be deletable already.
      seg.finished = true;
      if (seg.bad > BAD_LOGGED) {
        this.telemetry.event('spool.corrupt', 'error', `spool ${seg.path}: ${seg.bad} bad records or regions in all, ${seg.badBytes} bytes skipped`, { file: { path: seg.path } });
      }
      this.readSeg++;
      this.reader.reset();
      this.maybeDelete(seg);
    }
  }

  private parseAt(seg: Segment): Queued | undefined {
    const r = this.reader;
    for (;;) {
      const found = r.next(seg, seg === this.tail);
      if (found === 'end') return undefined;
      if (found === 'bad') {
        if (r.framed) this.badRecord(seg, r.badAt, r.badBytes, r.why);
        else this.badRegion(seg, r.badAt, r.badAt + r.badBytes, r.why);
        continue;
      }
      const source = r.payload.toString('utf8', r.nl + 1);
      const token = seg.tokens?.[seg.read];
      if (seg.tokens) {
        seg.tokens[seg.read] = undefined;
        this.waiting--;
      }
      seg.read++;
      return { env: { index: r.index, id: r.id, ack: { done: (o) => this.complete(seg, token, o) } }, source, bytes: r.payload.length - r.nl - 1 };
    }
  }

  /** One record whose CRC checks but that is not a document: it alone is skipped, as dropped. */
  private badRecord(seg: Segment, at: number, bytes: number, why: string): void {
    const token = seg.tokens?.[seg.read];
    if (seg.tokens) {
      seg.tokens[seg.read] = undefined;
      this.waiting--;
    }
    seg.read++;
    seg.done++;
    this.telemetry.documents.inc({ outcome: 'dropped' });
    token?.done('dropped');
    this.report(seg, at, bytes, why, false);
  }

  /** Bytes [from, to) hold no record that checks out: skipped. */
  private badRegion(seg: Segment, from: number, to: number, why: string): void {
    // How many records those bytes held is unknown, so this run's tokens of the segment can no
    // longer be matched to records: they get no outcome (their sources re-read after a restart),
    // never a wrong one; the writer moves on to a new segment.
    if (seg.tokens) {
      this.waiting -= seg.tokens.length - seg.read;
      seg.tokens = undefined;
    }
    // A crash tears only the end of the last segment an earlier run wrote.
    this.report(seg, from, to - from, why, to >= seg.end && seg.num === this.lastOld);
  }

  private report(seg: Segment, at: number, bytes: number, why: string, torn: boolean): void {
    seg.bad++;
    seg.badBytes += bytes;
    if (seg.bad > BAD_LOGGED) {
      this.telemetry.count('spool.corrupt');
    } else {
      const rest = torn ? 'to the end of the segment (a write torn by a crash)' : 'reading goes on at the next valid record';
      this.telemetry.event('spool.corrupt', torn ? 'warn' : 'error', `spool ${seg.path} at offset ${at}: ${why}; ${bytes} bytes skipped, ${rest}. Documents in them are lost unless their source reads them again (container logs, engine events)`, { file: { path: seg.path } });
    }
    if (torn) return;
    this.badTotal++;
    this.telemetry.health.degrade('spool.corrupt', `${this.badTotal} bad spool record(s) skipped, the latest in ${seg.path} at offset ${at}: ${why}`);
  }

  private complete(seg: Segment, token: AckToken | undefined, outcome: Parameters<AckToken['done']>[0]): void {
    seg.done++;
    token?.done(outcome);
    this.maybeDelete(seg);
  }

  private maybeDelete(seg: Segment): void {
    if (!seg.finished || seg.done < seg.read || seg.fd < 0) return;
    this.closeFd(seg);
    try {
      unlinkSync(seg.path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.telemetry.event('spool.delete_failed', 'warn', `spool: cannot delete ${seg.path}: ${(err as Error).message}; it is sent again after a restart (duplicates)`);
    }
    this.diskBytes -= seg.size;
    const i = this.segments.indexOf(seg);
    this.segments.splice(i, 1);
    if (i < this.readSeg) this.readSeg--;
    this.telemetry.setQueueBytes(this.diskBytes);
    if (this.writable) for (const w of this.writers.splice(0)) w();
  }
}
