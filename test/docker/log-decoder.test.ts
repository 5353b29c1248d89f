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

describe('timestamps', () => {
  it('keeps nanoseconds that a Date would lose', () => {
    assert.deepEqual(parseTimestamp('2026-11-28T14:05:43.000000001Z'), { sec: 1795874743, nanos: 1 });
    assert.deepEqual(parseTimestamp('2026-11-28T14:05:43.5Z'), { sec: 1795874743, nanos: 500_000_000 });
    assert.deepEqual(parseTimestamp('2026-11-28T16:05:43.25+02:00'), { sec: 1795874743, nanos: 250_000_000 });
    assert.equal(sinceArg(1795874743, 1), '1795874743.000000001');
  });
});
