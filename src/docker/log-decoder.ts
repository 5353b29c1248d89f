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
 * engine still prefixes each message with its timestamp.
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
  /** Bytes of the message as the engine held them, before any truncation. */
  bytes: number;
  /** True when the line was longer than maxLineBytes and cut there. */
  truncated: boolean;
  /** True when the line had been split by the engine into partial messages. */
  joined: boolean;
}

interface Pending {
  time: string;
  chunks: Buffer[];
  bytes: number;
  kept: number;
  parts: number;
}

const HEADER = 8;
const NEWLINE = 0x0a;
const SPACE = 0x20;

export class LogDecoder {
  private buf: Buffer = Buffer.alloc(0);
  private readonly pending: Record<StreamName, Pending | undefined> = { stdout: undefined, stderr: undefined };

  constructor(
    private readonly opts: { multiplexed: boolean; maxLineBytes: number },
    private readonly onLine: (line: LogLine) => void,
  ) {}

  push(chunk: Buffer): void {
    this.buf = this.buf.length === 0 ? chunk : Buffer.concat([this.buf, chunk]);
    if (this.opts.multiplexed) this.drainFrames();
    else this.drainRaw();
  }

  /** The stream ended: emit what is left, even a line whose last chunk never came. */
  end(): void {
    if (!this.opts.multiplexed && this.buf.length > 0) {
      this.message('stdout', this.buf, 0, this.buf.length, false);
      this.buf = Buffer.alloc(0);
    }
    for (const stream of ['stdout', 'stderr'] as const) {
      const p = this.pending[stream];
      if (p) this.flush(stream, p);
    }
  }

  private drainFrames(): void {
    let off = 0;
    const buf = this.buf;
    while (buf.length - off >= HEADER) {
      const size = buf.readUInt32BE(off + 4);
      if (buf.length - off - HEADER < size) break;
      const stream: StreamName = buf[off] === 2 ? 'stderr' : 'stdout';
      const start = off + HEADER;
      const end = start + size;
      const complete = size > 0 && buf[end - 1] === NEWLINE;
      this.message(stream, buf, start, complete ? end - 1 : end, complete);
      off = end;
    }
    this.buf = off === buf.length ? Buffer.alloc(0) : buf.subarray(off);
  }

  private drainRaw(): void {
    let off = 0;
    const buf = this.buf;
    for (;;) {
      const nl = buf.indexOf(NEWLINE, off);
      if (nl < 0) break;
      const end = nl > off && buf[nl - 1] === 0x0d ? nl - 1 : nl;
      this.message('stdout', buf, off, end, true);
      off = nl + 1;
    }
    this.buf = off === buf.length ? Buffer.alloc(0) : Buffer.from(buf.subarray(off));
  }

  /** One engine message: "<timestamp> <bytes>", complete or partial. */
  private message(stream: StreamName, buf: Buffer, start: number, end: number, complete: boolean): void {
    const sp = buf.indexOf(SPACE, start);
    const hasTime = sp > start && sp < end + 1 && sp - start <= 40;
    const time = hasTime ? buf.toString('latin1', start, sp) : '';
    const bodyStart = hasTime ? Math.min(sp + 1, end) : start;
    let p = this.pending[stream];
    if (!p && complete) {
      // The common case: a whole line in one frame, decoded without copying.
      const bytes = end - bodyStart;
      const cut = Math.min(bytes, this.opts.maxLineBytes);
      this.emit(stream, time, buf.toString('utf8', bodyStart, bodyStart + cut), bytes, cut < bytes, false);
      return;
    }
    if (!p) p = this.pending[stream] = { time, chunks: [], bytes: 0, kept: 0, parts: 0 };
    const len = end - bodyStart;
    const room = this.opts.maxLineBytes - p.kept;
    if (room > 0) {
      // Copy: the frame buffer is reused once drained.
      const keep = Math.min(room, len);
      p.chunks.push(Buffer.from(buf.subarray(bodyStart, bodyStart + keep)));
      p.kept += keep;
    }
    p.bytes += len;
    p.parts++;
    if (complete) this.flush(stream, p);
  }

  private flush(stream: StreamName, p: Pending): void {
    this.pending[stream] = undefined;
    const text = Buffer.concat(p.chunks, p.kept).toString('utf8');
    this.emit(stream, p.time, text, p.bytes, p.kept < p.bytes, p.parts > 1);
  }

  private emit(stream: StreamName, time: string, message: string, bytes: number, truncated: boolean, joined: boolean): void {
    const { sec, nanos } = parseTimestamp(time);
    this.onLine({ stream, time, sec, nanos, message, bytes, truncated, joined });
  }
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
  const ms = Date.parse(text.slice(0, dot) + text.slice(i));
  if (Number.isNaN(ms)) return { sec: 0, nanos: 0 };
  return { sec: Math.floor(ms / 1000), nanos: Number((frac + '000000000').slice(0, 9)) };
}

/** The `since` argument of the logs and events APIs: "<seconds>.<nanoseconds>". */
export function sinceArg(sec: number, nanos: number): string {
  return `${sec}.${String(nanos).padStart(9, '0')}`;
}
