/**
 * The disk spool's segment files (the format is in spool.ts): opening an earlier run's, creating
 * a new one, and reading records from one — one record at a time through a 1 MiB window, with
 * every way a record can be bad told apart, so the spool can skip exactly what is bad and go on.
 * The reader keeps what it found in its own fields instead of returning an object: the spool
 * reads every document through here.
 */
import { closeSync, constants, fchmodSync, fstatSync, openSync, readSync } from 'node:fs';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { FILE_MODE, NEW_FILE } from '../state/state-file';
import type { AckToken } from './envelope';

const { O_NOFOLLOW, O_NONBLOCK, O_RDONLY, O_RDWR } = constants;

export const HEADER = 8;
export const MAX_RECORD = 256 * 1024 * 1024;
const READ_CHUNK = 1 << 20;

export interface Segment {
  num: number;
  path: string;
  fd: number; // -1 once closed
  /** An fsync of fd is under way on the thread pool: closing waits for it (the fd number must not be reused under it). */
  syncing?: boolean;
  closeAfterSync?: boolean;
  size: number; // bytes in the file (flushed)
  end: number; // where reading stops: size
  read: number; // records handed to the sink (or skipped as bad)
  done: number; // records with an outcome
  finished: boolean; // reader reached its end and the writer is past it
  /**
   * Ack tokens of records this process wrote, in write order (absent for an earlier run's
   * segments, and once a bad region made the count of records in it unknown).
   */
  tokens: Array<AckToken | undefined> | undefined;
  created: number;
  /** bad records or regions skipped, and their bytes */
  bad: number;
  badBytes: number;
}

export const SEGMENT_NAME = /^\d{16}\.seg$/;

export function segmentPath(dir: string, num: number): string {
  return join(dir, `${String(num).padStart(16, '0')}.seg`);
}

/**
 * An earlier run's segment, opened for reading; throws when it is not a regular file (a symlink,
 * a directory, a FIFO — opened without blocking — named like a segment). One that group or others
 * could read is set to 0600.
 */
export function openOld(dir: string, name: string): Segment {
  const path = join(dir, name);
  let fd = -1;
  try {
    fd = openSync(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    const st = fstatSync(fd);
    if (!st.isFile()) throw new Error(st.isDirectory() ? 'a directory' : 'not a regular file');
    if (st.mode & 0o077) {
      try {
        fchmodSync(fd, FILE_MODE);
      } catch {
        // a read-only file system: reading still works
      }
    }
    return { num: Number(name.slice(0, 16)), path, fd, size: st.size, end: st.size, read: 0, done: 0, finished: false, tokens: undefined, created: Date.now(), bad: 0, badBytes: 0 };
  } catch (err) {
    if (fd >= 0) closeSync(fd);
    if ((err as NodeJS.ErrnoException).code === 'ELOOP') throw new Error('a symbolic link', { cause: err });
    throw err;
  }
}

/**
 * A new, empty segment for writing, numbered `num` or the next free number after it: created here
 * (0600, O_EXCL, never through a symlink); a name taken since the directory was listed is not ours
 * and is left alone.
 */
export function createSegment(dir: string, num: number): Segment {
  for (let n = num; ; n++) {
    try {
      const fd = openSync(segmentPath(dir, n), O_RDWR | NEW_FILE, FILE_MODE);
      return { num: n, path: segmentPath(dir, n), fd, size: 0, end: 0, read: 0, done: 0, finished: false, tokens: [], created: Date.now(), bad: 0, badBytes: 0 };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST' || n > num + 100) throw err;
    }
  }
}

/**
 * What `next()` found at `off`:
 * - 'record': a document; `index`, `id`, `payload` and `nl` (the offset of the header's newline) are set;
 * - 'bad': `badAt`, `badBytes` and `why` are set; `framed` when it is one record whose CRC checks
 *   (counted as one record), else a region up to the next offset where a record checks out;
 * - 'end': nothing more, for now (on the tail, a record still being written waits).
 */
export type Found = 'record' | 'bad' | 'end';

export class SegmentReader {
  /** File offset of the next record. */
  off = 0;
  index = '';
  id = '';
  payload: Buffer = Buffer.alloc(0);
  nl = 0;
  badAt = 0;
  badBytes = 0;
  why = '';
  framed = false;
  private buf: Buffer = Buffer.alloc(0);
  private bufStart = 0; // file offset of buf[0]

  /** For the next segment. */
  reset(): void {
    this.off = 0;
    this.buf = Buffer.alloc(0);
    this.bufStart = 0;
  }

  /** Reads at `off` (advancing it past a record or a bad region). May throw on an I/O error. */
  next(seg: Segment, tail: boolean): Found {
    const at = this.off;
    if (at + HEADER > seg.end) return 'end';
    const header = this.bytes(seg, at, HEADER);
    const len = header.readUInt32BE(0);
    if (len === 0 || len > MAX_RECORD || at + HEADER + len > seg.end) {
      if (len > 0 && len <= MAX_RECORD && tail) return 'end'; // still being written
      return this.region(seg, at, `impossible record length ${len}`);
    }
    const payload = this.bytes(seg, at + HEADER, len);
    if (crc32(payload) !== header.readUInt32BE(4)) return this.region(seg, at, 'checksum mismatch');
    this.off = at + HEADER + len;
    const nl = payload.indexOf(0x0a);
    const head = nl > 0 ? parseHead(payload.toString('utf8', 0, nl)) : undefined;
    // a second newline would split the document in the sink's NDJSON bulk body
    if (!head || payload.indexOf(0x0a, nl + 1) !== -1) {
      this.framed = true;
      this.badAt = at;
      this.badBytes = HEADER + len;
      this.why = nl < 0 ? 'no newline after the [index, id] header' : head ? 'a newline inside the document' : 'the header is not [index, id]';
      return 'bad';
    }
    this.index = head[0];
    this.id = head[1];
    this.payload = payload;
    this.nl = nl;
    return 'record';
  }

  /** No record starts at `at`: the bad region runs to the next offset where one does, or to the end. */
  private region(seg: Segment, at: number, why: string): Found {
    const next = this.findRecord(seg, at + 1) ?? seg.end;
    this.framed = false;
    this.badAt = at;
    this.badBytes = next - at;
    this.why = why;
    this.off = next;
    return 'bad';
  }

  /** The first offset ≥ from where a record's length fits and its CRC checks, or undefined. */
  private findRecord(seg: Segment, from: number): number | undefined {
    let off = from;
    while (off + HEADER <= seg.end) {
      const win = this.bytes(seg, off, Math.min(READ_CHUNK, seg.end - off));
      if (win.length < HEADER) return undefined;
      let next = off + win.length - HEADER + 1;
      for (let i = 0; i + HEADER <= win.length; i++) {
        const len = win.readUInt32BE(i);
        if (len < 2 || len > MAX_RECORD || off + i + HEADER + len > seg.end) continue;
        // Every payload starts with '["' (its header): checked first, so garbage costs no CRC.
        if (i + HEADER + 2 <= win.length && (win[i + HEADER] !== 0x5b || win[i + HEADER + 1] !== 0x22)) continue;
        if (this.recordAt(seg, off + i, len)) return off + i;
        // recordAt may have moved the window: go on from the next offset with a new one
        next = off + i + 1;
        break;
      }
      off = next;
    }
    return undefined;
  }

  private recordAt(seg: Segment, at: number, len: number): boolean {
    const crc = this.bytes(seg, at, HEADER).readUInt32BE(4);
    const payload = this.bytes(seg, at + HEADER, len);
    return payload.length === len && payload[0] === 0x5b && payload[1] === 0x22 && crc32(payload) === crc;
  }

  /** Bytes [off, off+len) of a segment, through a window that never reaches past `end`. */
  private bytes(seg: Segment, off: number, len: number): Buffer {
    const end = this.bufStart + this.buf.length;
    if (off < this.bufStart || off + len > end) {
      const size = Math.max(len, READ_CHUNK);
      const buf = Buffer.allocUnsafe(size);
      const n = readSync(seg.fd, buf, 0, Math.max(0, Math.min(size, seg.end - off)), off);
      this.buf = buf.subarray(0, n);
      this.bufStart = off;
    }
    return this.buf.subarray(off - this.bufStart, off - this.bufStart + len);
  }
}

/** `[index, id]` from a record's first line, or undefined when it is anything else. */
function parseHead(text: string): [string, string] | undefined {
  let h: unknown;
  try {
    h = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Array.isArray(h) && h.length === 2 && typeof h[0] === 'string' && typeof h[1] === 'string' && h[0].length > 0 ? (h as [string, string]) : undefined;
}
