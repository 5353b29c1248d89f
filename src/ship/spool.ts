/**
 * The disk spool: the durable, bounded hand-over between the flow and the Elasticsearch sink.
 *
 * Invariants
 * - Layout: `<dir>/<16-digit number>.seg`, numbered in write order; one tail segment is written,
 *   segments are read in number order, each from its start.
 * - Record format: [u32 BE payload length][u32 BE CRC-32 of the payload][payload], where the payload
 *   is UTF-8 `JSON.stringify([index, id])` + "\n" + the document's JSON.
 * - Checksum: a record whose length is impossible or whose CRC-32 does not match (a write torn by a
 *   crash) ends the reading of that segment; it is counted and logged with file and offset, and the
 *   rest of that segment is skipped.
 * - Durability: appends are written to the file once per event-loop turn and fsync'd when a segment
 *   rolls and every `fsync_interval`. A crash can lose only the unsynced tail, and nothing there is
 *   lost for good: sources move their cursors on Elasticsearch's acknowledgement, never on the
 *   spool's, so those documents are read again from the engine.
 * - Deletion: a segment is deleted when the writer has moved past it, the reader has read all of it,
 *   and every record read from it has a final outcome (acked, duplicate, dead-lettered, dropped).
 * - Restart: segments left by an earlier run are read again from their start. Records delivered
 *   before the crash are sent again and come back as 409 duplicates (deterministic ids), so no
 *   per-record acknowledgement file is needed.
 * - Full: at `max_bytes` on disk, `writable` turns false and collectors stop reading (a paused log
 *   stream leaves its lines in the engine's log files: lag, not loss). A record is never refused,
 *   since its source has already read it; the bound can be passed by what producers held in hand.
 * - Shutdown: records pushed after `close` (late async sends) are still written and replayed by the
 *   next run; after `dispose` the tail's descriptor is closed (its number may already belong to
 *   another file), so a record pushed then is not written, gets no outcome (its source's cursor
 *   stays before it) and is counted as `spool.late`.
 */
import { closeSync, fsyncSync, mkdirSync, openSync, readdirSync, readSync, statSync, unlinkSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { byteSize, duration } from '../config/units';
import type { Telemetry } from '../telemetry/telemetry';
import type { AckToken, Envelope } from './envelope';
import type { DocumentQueue, Queued } from './queue';

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

const HEADER = 8;
const MAX_RECORD = 256 * 1024 * 1024;
const READ_CHUNK = 1 << 20;

interface Segment {
  num: number;
  path: string;
  fd: number;
  size: number; // bytes in the file (flushed)
  end: number; // where reading stops: size, or the offset of a corrupt record
  read: number; // records handed to the sink
  done: number; // records with an outcome
  finished: boolean; // reader reached its end and the writer is past it
  /** Ack tokens of records this process wrote, in write order (absent for an earlier run's segments). */
  tokens: Array<AckToken | undefined> | undefined;
  created: number;
}

export class DiskSpool implements DocumentQueue {
  private readonly segments: Segment[] = [];
  private tail!: Segment;
  private pending: Buffer[] = [];
  private pendingTokens: Array<AckToken | undefined> = [];
  private pendingBytes = 0;
  private flushScheduled = false;
  private readSeg = 0; // index into segments
  private readOff = 0;
  private readBuf: Buffer = Buffer.alloc(0);
  private readBufStart = 0; // file offset of readBuf[0]
  private waiting = 0; // records this run wrote and the sink has not taken yet
  private diskBytes = 0;
  private writers: Array<() => void> = [];
  private readonly takers = new Set<() => void>();
  private closed = false;
  private disposed = false;
  private readonly syncTimer: NodeJS.Timeout;
  private nextNum = 1;

  constructor(private readonly dir: string, private readonly cfg: SpoolConfig, private readonly telemetry: Telemetry) {
    mkdirSync(dir, { recursive: true });
    for (const name of readdirSync(dir).filter((n) => /^\d{16}\.seg$/.test(n)).sort()) {
      const path = join(dir, name);
      const size = statSync(path).size;
      const seg: Segment = { num: Number(name.slice(0, 16)), path, fd: openSync(path, 'r'), size, end: size, read: 0, done: 0, finished: false, tokens: undefined, created: Date.now() };
      this.segments.push(seg);
      this.diskBytes += size;
      this.nextNum = seg.num + 1;
    }
    if (this.segments.length) {
      telemetry.event('spool.replay', 'info', `spool: ${this.segments.length} segment(s), ${this.diskBytes} bytes from an earlier run will be sent again (delivered ones come back as duplicates)`);
    }
    this.roll();
    this.syncTimer = setInterval(() => this.sync(), cfg.fsync_interval);
    this.syncTimer.unref();
  }

  push(env: Envelope): void {
    if (this.disposed) {
      this.telemetry.event('spool.late', 'warn', `spool: a document for ${env.index} arrived after shutdown closed the spool; not written`);
      return;
    }
    const head = Buffer.from(JSON.stringify([env.index, env.id]) + '\n' + JSON.stringify(env.doc));
    const rec = Buffer.allocUnsafe(HEADER);
    rec.writeUInt32BE(head.length, 0);
    rec.writeUInt32BE(crc32(head), 4);
    this.pending.push(rec, head);
    this.pendingTokens.push(env.ack);
    this.pendingBytes += HEADER + head.length;
    if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => this.flush());
    }
  }

  get writable(): boolean {
    return this.diskBytes + this.pendingBytes < this.cfg.max_bytes;
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

  async take(maxDocs: number, maxBytes: number, lingerMs: number): Promise<Queued[]> {
    this.flush();
    const out: Queued[] = [];
    let bytes = 0;
    const deadline = Date.now() + lingerMs;
    for (;;) {
      while (out.length < maxDocs && bytes < maxBytes) {
        const q = this.readOne();
        if (!q) break;
        out.push(q);
        bytes += q.bytes;
      }
      if (out.length >= maxDocs || bytes >= maxBytes || this.closed) return out;
      const left = out.length ? deadline - Date.now() : Infinity;
      if (left <= 0) return out;
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.takers.delete(wake);
          resolve();
        };
        this.takers.add(wake);
        if (Number.isFinite(left)) setTimeout(wake, left);
      });
      this.flush();
    }
  }

  close(): void {
    this.flush();
    this.sync();
    this.closed = true;
    clearInterval(this.syncTimer);
    this.wakeTakers();
    for (const w of this.writers.splice(0)) w();
  }

  /** After the sink stopped: a tail whose every record is done is deleted, so a restart has nothing to replay. */
  dispose(): void {
    this.close();
    this.disposed = true;
    const t = this.tail;
    if (this.readSeg === this.segments.indexOf(t) && this.readOff >= t.end && t.done === t.read) {
      t.finished = true;
      this.maybeDelete(t);
    } else closeSync(t.fd);
  }

  /** Writes what was pushed this turn, in one system call. */
  private flush(): void {
    this.flushScheduled = false;
    if (this.pending.length === 0 || this.disposed) return;
    const buf = Buffer.concat(this.pending, this.pendingBytes);
    writeSync(this.tail.fd, buf, 0, buf.length, this.tail.size);
    this.tail.size += buf.length;
    this.tail.end = this.tail.size;
    for (const t of this.pendingTokens) this.tail.tokens!.push(t);
    this.diskBytes += buf.length;
    this.waiting += this.pendingTokens.length;
    this.pending = [];
    this.pendingTokens = [];
    this.pendingBytes = 0;
    this.telemetry.setQueueBytes(this.diskBytes);
    if (this.tail.size >= this.cfg.segment_bytes) this.roll();
    this.wakeTakers();
  }

  private wakeTakers(): void {
    for (const wake of [...this.takers]) wake();
  }

  private roll(): void {
    if (this.tail) fsyncSync(this.tail.fd);
    const num = this.nextNum++;
    const path = join(this.dir, `${String(num).padStart(16, '0')}.seg`);
    const seg: Segment = { num, path, fd: openSync(path, 'a+'), size: 0, end: 0, read: 0, done: 0, finished: false, tokens: [], created: Date.now() };
    this.segments.push(seg);
    this.tail = seg;
  }

  private sync(): void {
    try {
      fsyncSync(this.tail.fd);
    } catch {
      // The tail may have been closed by a concurrent delete at shutdown; nothing to sync then.
    }
  }

  /** The next record for the sink, or undefined when everything written has been read. */
  private readOne(): Queued | undefined {
    for (;;) {
      const seg = this.segments[this.readSeg];
      if (!seg) return undefined;
      const rec = this.parseAt(seg);
      if (rec) return rec;
      if (seg === this.tail) return undefined;
      // The reader is done with a segment the writer has left: it may be deletable already.
      seg.finished = true;
      this.readSeg++;
      this.readOff = 0;
      this.readBuf = Buffer.alloc(0);
      this.readBufStart = 0;
      this.maybeDelete(seg);
    }
  }

  private parseAt(seg: Segment): Queued | undefined {
    if (this.readOff + HEADER > seg.end) return undefined;
    const header = this.bytes(seg, this.readOff, HEADER);
    const len = header.readUInt32BE(0);
    if (len === 0 || len > MAX_RECORD || this.readOff + HEADER + len > seg.end) {
      if (len > 0 && len <= MAX_RECORD && seg === this.tail) return undefined; // still being written
      return this.corrupt(seg, `impossible record length ${len}`);
    }
    const payload = this.bytes(seg, this.readOff + HEADER, len);
    if (crc32(payload) !== header.readUInt32BE(4)) return this.corrupt(seg, 'checksum mismatch');
    this.readOff += HEADER + len;
    const nl = payload.indexOf(0x0a);
    const [index, id] = JSON.parse(payload.toString('utf8', 0, nl)) as [string, string];
    const source = payload.toString('utf8', nl + 1);
    const token = seg.tokens?.[seg.read];
    if (seg.tokens) seg.tokens[seg.read] = undefined;
    seg.read++;
    if (seg.tokens) this.waiting--;
    return { env: { index, id, ack: { done: (o) => this.complete(seg, token, o) } }, source, bytes: len - nl - 1 };
  }

  private complete(seg: Segment, token: AckToken | undefined, outcome: Parameters<AckToken['done']>[0]): void {
    seg.done++;
    token?.done(outcome);
    this.maybeDelete(seg);
  }

  private maybeDelete(seg: Segment): void {
    if (!seg.finished || seg.done < seg.read) return;
    closeSync(seg.fd);
    unlinkSync(seg.path);
    this.diskBytes -= seg.size;
    const i = this.segments.indexOf(seg);
    this.segments.splice(i, 1);
    if (i < this.readSeg) this.readSeg--;
    this.telemetry.setQueueBytes(this.diskBytes);
    if (this.writable) for (const w of this.writers.splice(0)) w();
  }

  private corrupt(seg: Segment, why: string): undefined {
    this.telemetry.event('spool.corrupt', 'error', `spool ${seg.path} at offset ${this.readOff}: ${why}; the rest of this segment is skipped (its documents are re-read from the engine)`);
    seg.end = this.readOff;
    return undefined;
  }

  /** Bytes [off, off+len) of a segment, read through a 1 MiB window. */
  private bytes(seg: Segment, off: number, len: number): Buffer {
    const end = this.readBufStart + this.readBuf.length;
    if (off < this.readBufStart || off + len > end) {
      const size = Math.max(len, READ_CHUNK);
      const buf = Buffer.allocUnsafe(size);
      const n = readSync(seg.fd, buf, 0, size, off);
      this.readBuf = buf.subarray(0, n);
      this.readBufStart = off;
    }
    return this.readBuf.subarray(off - this.readBufStart, off - this.readBufStart + len);
  }
}
