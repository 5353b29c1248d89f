import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogDecoder, parseTimestamp, sinceArg, type LogLine } from '../../src/docker/log-decoder';

const TS = '2026-11-28T14:05:43.363699440Z';

function frame(stream: 1 | 2, payload: Buffer | string): Buffer {
  const body = Buffer.isBuffer(payload) ? payload : Buffer.from(payload);
  const h = Buffer.alloc(8);
  h[0] = stream;
  h.writeUInt32BE(body.length, 4);
  return Buffer.concat([h, body]);
}

function decode(chunks: Buffer[], opts = { multiplexed: true, maxLineBytes: 1 << 20 }): LogLine[] {
  const out: LogLine[] = [];
  const d = new LogDecoder(opts, (l) => out.push(l));
  for (const c of chunks) d.push(c);
  d.end();
  return out;
}

describe('LogDecoder', () => {
  it('reads whole lines of both streams with their timestamps', () => {
    const lines = decode([frame(1, `${TS} hello\n`), frame(2, `${TS} oops\n`), frame(1, `${TS} \n`)]);
    assert.deepEqual(lines.map((l) => [l.stream, l.message, l.sec, l.nanos]), [
      ['stdout', 'hello', 1795874743, 363699440],
      ['stderr', 'oops', 1795874743, 363699440],
      ['stdout', '', 1795874743, 363699440],
    ]);
  });

  it('survives frames cut anywhere by the transport', () => {
    const all = Buffer.concat([frame(1, `${TS} one\n`), frame(2, `${TS} two\n`), frame(1, `${TS} three\n`)]);
    for (let cut = 1; cut < all.length; cut++) {
      const lines = decode([all.subarray(0, cut), all.subarray(cut)]);
      assert.deepEqual(lines.map((l) => l.message), ['one', 'two', 'three'], `cut at ${cut}`);
    }
  });

  it('joins the engine\'s 16 KiB partial messages, keeping the first timestamp and split characters', () => {
    const text = Buffer.from('a' + 'é'.repeat(12_000));
    const first = Buffer.concat([Buffer.from(`${TS} `), text.subarray(0, 16_384)]);
    const second = Buffer.concat([Buffer.from('2026-11-28T14:05:43.363800000Z '), text.subarray(16_384), Buffer.from('\n')]);
    const lines = decode([frame(1, first), frame(2, `${TS} interleaved\n`), frame(1, second)]);
    assert.deepEqual(lines.map((l) => l.stream), ['stderr', 'stdout'], 'the other stream is not held up');
    const line = lines[1];
    // Compared with ok(): a failing deepEqual would print 24 kB.
    assert.ok(line.message === text.toString('utf8'), `joined text differs (${line.message.length} chars)`);
    assert.equal(line.joined, true);
    assert.equal(line.time, TS);
  });

  it('truncates at maxLineBytes and says so', () => {
    const [line] = decode([frame(1, `${TS} ${'z'.repeat(100)}\n`)], { multiplexed: true, maxLineBytes: 10 });
    assert.equal(line.message, 'z'.repeat(10));
    assert.equal(line.truncated, true);
    assert.equal(line.bytes, 100);
  });

  it('emits a partial line whose end never came when the stream ends', () => {
    const lines = decode([frame(1, `${TS} no newline`)]);
    assert.deepEqual(lines.map((l) => l.message), ['no newline']);
  });

  it('reads a TTY stream (raw, \\r\\n line ends)', () => {
    const lines = decode([Buffer.from(`${TS} one\r\n${TS} tw`), Buffer.from(`o\r\n`)], { multiplexed: false, maxLineBytes: 1000 });
    assert.deepEqual(lines.map((l) => l.message), ['one', 'two']);
  });
});

/** CPU time of fn in ms: wall time would count the other agents on a loaded machine. */
function cpuMs(fn: () => void): number {
  const t0 = process.cpuUsage();
  fn();
  const d = process.cpuUsage(t0);
  return (d.user + d.system) / 1000;
}

/** Splits buf into pieces of the given sizes, cycling through them. */
function pieces(buf: Buffer, sizes: number[]): Buffer[] {
  const out: Buffer[] = [];
  for (let off = 0, i = 0; off < buf.length; i++) {
    const n = sizes[i % sizes.length];
    out.push(buf.subarray(off, off + n));
    off += n;
  }
  return out;
}

const view = (lines: LogLine[]) => lines.map((l) => [l.stream, l.time, l.message, l.truncated, l.joined]);

describe('LogDecoder under a flood (review H2)', () => {
  const MAX = 1 << 20;
  // What the engine sends for `docker run -t … cat /dev/zero`: "<timestamp> <16 KiB>" messages,
  // never a "\n"; one 64 KiB socket read holds four of them.
  const msg = Buffer.concat([Buffer.from(`${TS} `), Buffer.alloc(16_384 - TS.length - 1, 0x41)]);
  const chunk = Buffer.concat([msg, msg, msg, msg]);

  it('TTY: 64 MiB without a newline costs linear time and bounded memory, and is cut once', () => {
    const out: LogLine[] = [];
    const d = new LogDecoder({ multiplexed: false, maxLineBytes: MAX }, (l) => out.push(l));
    let held = 0;
    const n = (64 << 20) / chunk.length;
    const cpu = cpuMs(() => {
      for (let i = 0; i < n; i++) {
        d.push(chunk);
        held = Math.max(held, d.bufferedBytes);
      }
    });
    // Before the fix: quadratic, 14–33 s for half as much.
    assert.ok(cpu < 500, `64 MiB took ${cpu.toFixed(0)} ms of CPU`);
    assert.ok(held <= MAX + chunk.length, `decoder held ${held} bytes`);
    // The head went out as soon as it was known to be too long, not when the "\n" comes.
    assert.equal(out.length, 1);
    const [cut] = out;
    assert.equal(cut.truncated, true);
    assert.equal(cut.time, TS);
    assert.equal(cut.message.length, MAX);
    assert.ok(cut.message.startsWith('AAAA') && cut.message.includes(`A${TS} A`), 'the head is the text as the engine sent it');
    assert.equal(d.truncatedLines, 1);

    d.push(Buffer.from(`tail\r\n${TS} after the flood\r\n`));
    d.end();
    assert.deepEqual(view(out.slice(1)), [['stdout', TS, 'after the flood', false, false]]);
    // Everything after the timestamp that was not kept, up to the "\n".
    assert.equal(d.droppedBytes, n * chunk.length + 'tail\r'.length - (TS.length + 1) - MAX);
    assert.equal(d.bufferedBytes, 0);
  });

  it('multiplexed: 64 MiB of partial frames are cut once, the other stream flows, and the line after is whole', () => {
    const part = frame(1, Buffer.concat([Buffer.from(`${TS} `), Buffer.alloc(16_384 - 8 - TS.length - 1, 0x42)]));
    const read = Buffer.concat([part, part, part, part]);
    const out: LogLine[] = [];
    const d = new LogDecoder({ multiplexed: true, maxLineBytes: MAX }, (l) => out.push(l));
    let held = 0;
    const n = (64 << 20) / read.length;
    const cpu = cpuMs(() => {
      for (let i = 0; i < n; i++) {
        d.push(read);
        if (i === 100) d.push(frame(2, `${TS} meanwhile on stderr\n`));
        held = Math.max(held, d.bufferedBytes);
      }
    });
    assert.ok(cpu < 500, `64 MiB took ${cpu.toFixed(0)} ms of CPU`);
    assert.ok(held <= MAX + read.length, `decoder held ${held} bytes`);
    d.push(Buffer.concat([frame(1, `${TS} end of the long line\n`), frame(1, `${TS} next\n`)]));
    d.end();
    assert.deepEqual(out.map((l) => [l.stream, l.message.length, l.truncated, l.joined]), [
      ['stdout', MAX, true, true],
      ['stderr', 'meanwhile on stderr'.length, false, false],
      ['stdout', 4, false, false],
    ]);
    assert.equal(out[0].time, TS);
    assert.equal(out[2].message, 'next');
    const body = 16_384 - 8 - TS.length - 1;
    assert.equal(d.droppedBytes, n * 4 * body + 'end of the long line'.length - MAX);
    assert.equal(d.truncatedLines, 1);
  });

  it('a TTY line longer than the limit ending in the same read keeps its whole size', () => {
    const [line] = decode([Buffer.from(`${TS} ${'z'.repeat(100)}\r\n`)], { multiplexed: false, maxLineBytes: 10 });
    assert.deepEqual([line.message, line.truncated, line.bytes, line.time], ['z'.repeat(10), true, 100, TS]);
  });

  it('gives the same lines however the reads are cut, around the limit, timestamps and "\\r\\n" included', () => {
    const max = 20;
    const texts = ['', 'a', 'é'.repeat(9) + 'x', 'y'.repeat(max - 1), 'y'.repeat(max), 'y'.repeat(max + 1), 'y'.repeat(max + 2), 'w'.repeat(300), 'no-space-at-all', 'sp ace', ' lead'];
    const raw = Buffer.from(texts.map((t, i) => (i % 3 === 0 ? `${TS} ${t}\r\n` : i % 3 === 1 ? `${TS} ${t}\n` : `${t}\n`)).join('') + `${TS} unterminated`);
    const mux = Buffer.concat([
      ...texts.map((t, i) => frame(i % 2 === 0 ? 1 : 2, `${TS} ${t}\n`)),
      // A line the engine split in three, with the other stream in between.
      frame(1, `${TS} ${'p'.repeat(8)}`), frame(2, `${TS} other\n`), frame(1, `${TS} ${'q'.repeat(8)}`), frame(1, `${TS} end\n`),
      frame(1, `${TS} ${'r'.repeat(15)}`), frame(1, `${TS} ${'s'.repeat(15)}`), frame(1, `${TS} ${'t'.repeat(15)}`), frame(1, `${TS} u\n`),
      frame(1, Buffer.alloc(0)), frame(1, `${TS} after an empty frame\n`),
    ]);
    for (const [multiplexed, body] of [[false, raw], [true, mux]] as const) {
      const opts = { multiplexed, maxLineBytes: max };
      const whole = decode([body], opts);
      assert.ok(whole.length >= texts.length, `${whole.length} lines`);
      for (const sizes of [[1], [2], [3, 7], [5, 1, 13], [31], [64]]) {
        const lines = decode(pieces(body, sizes), opts);
        assert.deepEqual(view(lines), view(whole), `multiplexed ${multiplexed}, reads of ${sizes.join('/')} bytes`);
      }
    }
    const tty = decode([raw], { multiplexed: false, maxLineBytes: max });
    assert.deepEqual(tty.slice(0, 3).map((l) => [l.time, l.message]), [[TS, ''], [TS, 'a'], ['', 'é'.repeat(9) + 'x']]);
    assert.deepEqual(tty.slice(3, 7).map((l) => l.truncated), [false, false, true, true]);
    assert.deepEqual(tty.slice(-4).map((l) => [l.time, l.message]), [['', 'no-space-at-all'], [TS, 'sp ace'], [TS, ' lead'], [TS, 'unterminated']]);
  });
});

describe('timestamps', () => {
  it('keeps nanoseconds that a Date would lose', () => {
    assert.deepEqual(parseTimestamp('2026-11-28T14:05:43.000000001Z'), { sec: 1795874743, nanos: 1 });
    assert.deepEqual(parseTimestamp('2026-11-28T14:05:43.5Z'), { sec: 1795874743, nanos: 500_000_000 });
    assert.deepEqual(parseTimestamp('2026-11-28T16:05:43.25+02:00'), { sec: 1795874743, nanos: 250_000_000 });
    assert.equal(sinceArg(1795874743, 1), '1795874743.000000001');
  });

  it('the seconds parsed once per second are right for each line, a bad one between them too', () => {
    const seq = ['2026-11-28T14:05:43.1Z', '2026-11-28T14:05:43.2Z', 'not-a-time-at-all-x.5Z', '2026-11-28T14:05:43.3Z', '2026-11-28T14:05:44.1Z', '2026-11-28T16:05:44.1+02:00'];
    assert.deepEqual(seq.map((t) => parseTimestamp(t).sec), [1795874743, 1795874743, 0, 1795874743, 1795874744, 1795874744]);
  });
});
