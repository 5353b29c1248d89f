/**
 * Log decoding on one core, no engine: the body of `GET /containers/{id}/logs?timestamps=1` fed to
 * the LogDecoder in 64 KiB socket reads, as dockward's log collector does.
 *   - normal lines: 100-byte lines, TTY (raw, "\r\n") and multiplexed (8-byte frame headers);
 *   - flood: a container that never writes "\n" (`docker run -t … cat /dev/zero`), which the
 *     engine sends as "<timestamp> <16 KiB>" messages: raw, and as partial frames when multiplexed.
 * Prints MiB/s of input (best of three runs), lines out, and the most bytes the decoder held
 * between two reads.
 *   node dist/bench/log-decoder.js [lines=300000] [flood=64] (flood in MiB)
 */
import { performance } from 'node:perf_hooks';
import { LogDecoder } from '../src/docker/log-decoder';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? def);
const LINES = arg('lines', 300_000);
const FLOOD_MIB = arg('flood', 64);
const CHUNK = 64 * 1024;
const MAX_LINE = 1 << 20; // logs.max_line_bytes default
const TS = '2026-11-28T14:05:43.363699440Z';

function frame(payload: Buffer): Buffer {
  const h = Buffer.alloc(8);
  h[0] = 1;
  h.writeUInt32BE(payload.length, 4);
  return Buffer.concat([h, payload]);
}

function normal(multiplexed: boolean): Buffer {
  const parts: Buffer[] = [];
  for (let i = 0; i < LINES; i++) {
    const text = `127.0.0.1 - - "GET /item/${i} HTTP/1.1" 200 512 "-" "curl/8.5"`.padEnd(100, '.');
    parts.push(multiplexed ? frame(Buffer.from(`${TS} ${text}\n`)) : Buffer.from(`${TS} ${text}\r\n`));
  }
  return Buffer.concat(parts);
}

/** The same 64 KiB read, again and again: four engine messages of 16 KiB without a newline. */
function floodChunk(multiplexed: boolean): Buffer {
  const msg = Buffer.concat([Buffer.from(`${TS} `), Buffer.alloc(16_384 - TS.length - 1 - (multiplexed ? 8 : 0), 0x41)]);
  const one = multiplexed ? frame(msg) : msg;
  return Buffer.concat([one, one, one, one]);
}

function run(name: string, multiplexed: boolean, chunks: () => Iterable<Buffer>, total: number): void {
  // Best of three: the first run also pays for compilation, and the machine is shared.
  let best = Infinity;
  let lines = 0;
  let held = 0;
  for (let rep = 0; rep < 3; rep++) {
    lines = 0;
    const d = new LogDecoder({ multiplexed, maxLineBytes: MAX_LINE }, () => lines++);
    // Read once per push: what a heap snapshot would show between two socket reads (`buf` before
    // the decoder had bufferedBytes, for figures from older commits).
    const holds = () => (d as unknown as { bufferedBytes?: number }).bufferedBytes ?? (d as unknown as { buf: Buffer }).buf.length;
    const t0 = performance.now();
    for (const c of chunks()) {
      d.push(c);
      held = Math.max(held, holds());
    }
    best = Math.min(best, (performance.now() - t0) / 1000);
    d.end();
  }
  const mib = total / 2 ** 20;
  console.log(
    `  ${name.padEnd(30)} ${(mib / best).toFixed(0).padStart(6)} MiB/s  (${mib.toFixed(0)} MiB in ${(best * 1000).toFixed(0)} ms, ${lines} lines` +
      `, held at most ${(held / 1024).toFixed(0)} KiB)`,
  );
}

function* slices(buf: Buffer): Iterable<Buffer> {
  for (let off = 0; off < buf.length; off += CHUNK) yield buf.subarray(off, off + CHUNK);
}

function* repeat(chunk: Buffer, n: number): Iterable<Buffer> {
  for (let i = 0; i < n; i++) yield chunk;
}

function main(): void {
  console.log(`log-decoder: ${CHUNK / 1024} KiB reads, max_line_bytes ${MAX_LINE / 2 ** 20} MiB`);
  for (const multiplexed of [false, true]) {
    const body = normal(multiplexed);
    run(multiplexed ? 'multiplexed, 100-byte lines' : 'TTY, 100-byte lines', multiplexed, () => slices(body), body.length);
  }
  const n = Math.ceil((FLOOD_MIB * 2 ** 20) / CHUNK);
  for (const multiplexed of [false, true]) {
    const chunk = floodChunk(multiplexed);
    run(multiplexed ? 'multiplexed, no-newline flood' : 'TTY, no-newline flood', multiplexed, () => repeat(chunk, n), n * chunk.length);
  }
}

main();
