/**
 * Decodes the body of `GET /containers/{id}/logs?timestamps=1` into whole lines.
 *
 * Without a TTY the body is multiplexed: frames of an 8-byte header (stream byte 1|2, three zero
 * bytes, big-endian payload length) and a payload. The daemon writes exactly one log message per
 * frame, prefixed by its RFC3339Nano timestamp and a space. A message the engine split because it
 * was longer than 16 KiB has no trailing "\n"; its continuation follows in the next frames of the
 * same stream, each with its own timestamp. We join them and keep the first chunk's timestamp, so a
 * `since` resume at that timestamp re-reads the line from its start. Bytes are joined before UTF-8
 * decoding, so a character cut at a chunk border survives.
 *
 * With a TTY the body is the raw byte stream: lines are split on "\n" and "\r" is dropped; the
 * engine still prefixes each message with its timestamp. A TTY line the engine split keeps the
 * timestamps of its later messages inside its text: the raw stream does not mark where they are.
 *
 * The container controls how long a line is, so the work is linear in the bytes read and what is
 * held is bounded, in both modes: each read is searched once, and once a line has more than
 * maxLineBytes (after its timestamp) its head is emitted at once as `truncated` and the rest of the
 * line, up to its "\n" (TTY) or its last partial frame (multiplexed), is dropped and counted in
 * `droppedBytes`. A line that ends within the read that crossed the limit is cut the same way and
 * carries its whole size in `bytes`.
 */

export type StreamName = 'stdout' | 'stderr';

export interface LogLine {
  stream: StreamName;
  /** Timestamp text as the engine wrote it (first chunk of a joined line). */
  time: string;
  /** Seconds since the epoch and nanoseconds within that second. */
  sec: number;
  nanos: number;
  message: string;
  /**
   * Bytes of the message as the engine held them, before any truncation. For a line cut before its
   * end arrived: the bytes seen up to the cut (the rest goes to `droppedBytes`).
   */
  bytes: number;
  /** True when the line was longer than maxLineBytes and cut there: emitted once per such line. */
  truncated: boolean;
  /** True when the line had been split by the engine into partial messages. */
  joined: boolean;
}

/** A multiplexed line whose last partial message has not come yet. */
interface Pending {
  time: string;
  chunks: Buffer[];
  bytes: number;
  kept: number;
  parts: number;
  /** Its head was emitted as truncated: the rest of its frames are counted, then forgotten. */
  dropping: boolean;
}

/** The head of something that spans reads (a frame's payload, a TTY line): copied, capped. */
interface Head {
  chunks: Buffer[];
  kept: number;
  /** Bytes seen, kept or not. */
  seen: number;
  /** The last byte seen: "\n" ends a frame's line, "\r" before "\n" is dropped from a TTY line. */
  last: number;
}

const HEADER = 8;
const NEWLINE = 0x0a;
const RETURN = 0x0d;
const SPACE = 0x20;
/** The timestamp is the text before the first space, if that space is within the first 41 bytes. */
const TIME_ROOM = 41;

export class LogDecoder {
  /** Lines emitted as `truncated`. */
  truncatedLines = 0;
  /** Bytes of over-long lines that were not kept (after the timestamp, without the "\n"). */
  droppedBytes = 0;

  private readonly pending: Record<StreamName, Pending | undefined> = { stdout: undefined, stderr: undefined };
  /**
   * Bytes of a message or line needed to decide everything about it: its timestamp, maxLineBytes
   * of text, and one more (a "\r" that may precede the "\n"). Beyond that only its size counts.
   */
  private readonly headCap: number;
  // Multiplexed: a header cut by a read, and the frame whose payload spans reads.
  private readonly header = Buffer.alloc(HEADER);
  private headerFill = 0;
  private frame: (Head & { stream: StreamName; size: number }) | undefined;
  // TTY: the line that spans reads, and whether the rest of a cut line is being dropped.
  private line: Head | undefined;
  private dropping = false;

  constructor(
    private readonly opts: { multiplexed: boolean; maxLineBytes: number },
    private readonly onLine: (line: LogLine) => void,
  ) {
    this.headCap = opts.maxLineBytes + TIME_ROOM + 1;
  }

  /** Bytes held between reads: at most a few times maxLineBytes, whatever the container writes. */
  get bufferedBytes(): number {
    return this.headerFill + (this.frame?.kept ?? 0) + (this.line?.kept ?? 0) + (this.pending.stdout?.kept ?? 0) + (this.pending.stderr?.kept ?? 0);
  }

  push(chunk: Buffer): void {
    if (this.opts.multiplexed) this.drainFrames(chunk);
    else this.drainRaw(chunk);
  }

  /** The stream ended: emit what is left, even a line whose last chunk never came. */
  end(): void {
    const line = this.line;
    this.line = undefined;
    this.dropping = false;
    if (line) {
      const head = Buffer.concat(line.chunks, line.kept);
      this.message('stdout', head, 0, head.length, true, line.seen);
    }
    // A frame cut short by the end of the body is dropped, as a frame whose size never came.
    this.frame = undefined;
    this.headerFill = 0;
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.pending[stream];
      if (p && !p.dropping) this.flush(stream, p);
      this.pending[stream] = undefined;
    }
  }

  private drainFrames(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      const f = this.frame;
      if (f) {
        // The rest of a payload that began in an earlier read.
        const take = Math.min(f.size - f.seen, buf.length - off);
        append(f, buf, off, off + take, this.headCap);
        off += take;
        if (f.seen < f.size) return;
        this.frame = undefined;
        this.payload(f.stream, Buffer.concat(f.chunks, f.kept), 0, f.size, f.last);
        continue;
      }
      let size: number;
      let stream: StreamName;
      if (this.headerFill === 0 && buf.length - off >= HEADER) {
        size = buf.readUInt32BE(off + 4);
        stream = buf[off] === 2 ? 'stderr' : 'stdout';
        off += HEADER;
      } else {
        const take = Math.min(HEADER - this.headerFill, buf.length - off);
        buf.copy(this.header, this.headerFill, off, off + take);
        this.headerFill += take;
        off += take;
        if (this.headerFill < HEADER) return;
        this.headerFill = 0;
        size = this.header.readUInt32BE(4);
        stream = this.header[0] === 2 ? 'stderr' : 'stdout';
      }
      if (buf.length - off >= size) {
        // The common case: the whole payload is in this read, decoded without copying.
        this.payload(stream, buf, off, size);
        off += size;
      } else {
        this.frame = { stream, size, chunks: [], kept: 0, seen: 0, last: -1 };
      }
    }
  }

  /** One frame's payload of `size` bytes ending in `last`; buf[start…] holds at least its head. */
  private payload(stream: StreamName, buf: Buffer, start: number, size: number, last = buf[start + size - 1]): void {
    const held = Math.min(size, buf.length - start);
    const complete = size > 0 && last === NEWLINE;
    const len = complete ? size - 1 : size;
    this.message(stream, buf, start, start + Math.min(held, len), complete, len);
  }

  private drainRaw(buf: Buffer): void {
    let off = 0;
    while (off < buf.length) {
      const nl = buf.indexOf(NEWLINE, off);
      if (this.dropping) {
        this.droppedBytes += (nl < 0 ? buf.length : nl) - off;
        if (nl < 0) return;
        this.dropping = false;
        off = nl + 1;
        continue;
      }
      if (nl < 0) {
        const line = (this.line ??= { chunks: [], kept: 0, seen: 0, last: -1 });
        append(line, buf, off, buf.length, this.headCap);
        if (line.seen > this.headCap) {
          // Longer than maxLineBytes whatever its timestamp and ending: emit the head now.
          this.line = undefined;
          this.dropping = true;
          const head = Buffer.concat(line.chunks, line.kept);
          this.message('stdout', head, 0, head.length, true, line.seen);
        }
        return;
      }
      const line = this.line;
      if (!line) {
        const end = nl > off && buf[nl - 1] === RETURN ? nl - 1 : nl;
        this.message('stdout', buf, off, end, true);
      } else {
        this.line = undefined;
        append(line, buf, off, nl, this.headCap);
        const len = line.last === RETURN ? line.seen - 1 : line.seen;
        const head = Buffer.concat(line.chunks, line.kept);
        this.message('stdout', head, 0, Math.min(head.length, len), true, len);
      }
      off = nl + 1;
    }
  }

  /**
   * One engine message or TTY line of `len` bytes, "<timestamp> <bytes>", complete or partial;
   * buf[start, end) holds all of it or at least its first headCap bytes.
   */
  private message(stream: StreamName, buf: Buffer, start: number, end: number, complete: boolean, len = end - start): void {
    // Looked for in the first bytes only: a search to the end of the read would be quadratic.
    let sp = -1;
    for (let i = start, lim = Math.min(start + TIME_ROOM, end); i < lim; i++) {
      if (buf[i] === SPACE) {
        sp = i;
        break;
      }
    }
    const hasTime = sp > start;
    const time = hasTime ? buf.toString('latin1', start, sp) : '';
    const bodyStart = hasTime ? Math.min(sp + 1, start + len) : start;
    const bytes = len - (bodyStart - start);
    const max = this.opts.maxLineBytes;
    let p = this.pending[stream];
    if (p?.dropping) {
      // The rest of a line whose head was emitted: its size is all that is left to know.
      this.droppedBytes += bytes;
      if (complete) this.pending[stream] = undefined;
      return;
    }
    if (!p && complete) {
      // The common case: a whole line in one message, decoded without copying.
      const cut = Math.min(bytes, max);
      if (cut < bytes) this.overflow(bytes - cut);
      this.emit(stream, time, buf.toString('utf8', bodyStart, bodyStart + cut), bytes, cut < bytes, false);
      return;
    }
    if (!p) p = this.pending[stream] = { time, chunks: [], bytes: 0, kept: 0, parts: 0, dropping: false };
    const room = max - p.kept;
    if (room > 0) {
      // Copy: a slice would keep the whole read alive.
      const keep = Math.min(room, bytes);
      p.chunks.push(Buffer.from(buf.subarray(bodyStart, bodyStart + keep)));
      p.kept += keep;
    }
    p.bytes += bytes;
    p.parts++;
    if (complete) this.flush(stream, p);
    else if (p.bytes > max) {
      // Over the limit before its end came: emit the head now, drop the rest as it comes.
      this.flush(stream, p, true);
      this.pending[stream] = { ...p, chunks: [], kept: 0, dropping: true };
    }
  }

  /** Emits a pending line; `partial`: more of it is still to come. */
  private flush(stream: StreamName, p: Pending, partial = false): void {
    this.pending[stream] = undefined;
    const text = Buffer.concat(p.chunks, p.kept).toString('utf8');
    if (p.kept < p.bytes) this.overflow(p.bytes - p.kept);
    this.emit(stream, p.time, text, p.bytes, p.kept < p.bytes, partial || p.parts > 1);
  }

  private overflow(dropped: number): void {
    this.truncatedLines++;
    this.droppedBytes += dropped;
  }

  private emit(stream: StreamName, time: string, message: string, bytes: number, truncated: boolean, joined: boolean): void {
    const { sec, nanos } = parseTimestamp(time);
    this.onLine({ stream, time, sec, nanos, message, bytes, truncated, joined });
  }
}

/** Adds buf[start, end) to a head: copies what fits under `cap`, counts the rest. */
function append(h: Head, buf: Buffer, start: number, end: number, cap: number): void {
  if (end <= start) return;
  const keep = Math.min(end - start, cap - h.kept);
  if (keep > 0) {
    h.chunks.push(Buffer.from(buf.subarray(start, start + keep)));
    h.kept += keep;
  }
  h.seen += end - start;
  h.last = buf[end - 1];
}

/**
 * Parses RFC3339 with up to nine fractional digits ("2026-11-28T14:05:43.363699440Z") into whole
 * seconds and nanoseconds: a JS Date would keep milliseconds only.
 */
export function parseTimestamp(text: string): { sec: number; nanos: number } {
  const dot = text.indexOf('.', 17);
  if (dot < 0) {
    const ms = Date.parse(text);
    return Number.isNaN(ms) ? { sec: 0, nanos: 0 } : { sec: Math.floor(ms / 1000), nanos: 0 };
  }
  let i = dot + 1;
  while (i < text.length && text.charCodeAt(i) >= 48 && text.charCodeAt(i) <= 57) i++;
  const frac = text.slice(dot + 1, i);
  // Lines come many to a second: the whole seconds are parsed once per second, not per line.
  const whole = text.slice(0, dot) + text.slice(i);
  if (whole !== lastWhole) {
    const ms = Date.parse(whole);
    lastSec = Number.isNaN(ms) ? NaN : Math.floor(ms / 1000);
    lastWhole = whole;
  }
  if (Number.isNaN(lastSec)) return { sec: 0, nanos: 0 };
  return { sec: lastSec, nanos: Number((frac + '000000000').slice(0, 9)) };
}
let lastWhole = '';
let lastSec = NaN;

/** The `since` argument of the logs and events APIs: "<seconds>.<nanoseconds>". */
export function sinceArg(sec: number, nanos: number): string {
  return `${sec}.${String(nanos).padStart(9, '0')}`;
}
