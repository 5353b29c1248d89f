/**
 * Log shipping throughput and memory, end to end on the real engines:
 *   containers that printed N lines → dockward run → Elasticsearch, until all N are counted.
 * Prints lines/s and dockward's peak RSS, plus a CPU-only figure for the hot path (decode a
 * multiplexed stream, build ECS documents, serialize) measured in the same run, so the ratio
 * tells how much of the end-to-end time is dockward's own work.
 *   npm run bench -- [lines=200000] [containers=4]
 */
import { performance } from 'node:perf_hooks';
import { LogDecoder } from '../src/docker/log-decoder';
import { adminClient, engines, newNamespace } from '../test/support/engines';
import { removeContainers, runContainer, seqCommand } from '../test/support/containers';
import { treeMemoryMb } from '../test/support/proc-tree';
import { DockwardProcess } from '../test/support/dockward';
import { waitForCount } from '../test/support/elasticsearch';
import { deterministicId } from '../src/ship/envelope';
import { baseFields, detectLevel } from '../src/enrich/ecs';

const peakRssMb = (pid: number) => treeMemoryMb(pid, 'VmHWM');

function hotPath(lines: number): number {
  const ts = '2026-11-28T14:05:43.363699440Z';
  const frames: Buffer[] = [];
  for (let i = 0; i < lines; i++) {
    const body = Buffer.from(`${ts} 127.0.0.1 - - "GET /item/${i} HTTP/1.1" 200 512\n`);
    const h = Buffer.alloc(8);
    h[0] = 1;
    h.writeUInt32BE(body.length, 4);
    frames.push(h, body);
  }
  const stream = Buffer.concat(frames);
  const base = baseFields('logs', 'dockward.container', 'bench');
  let bytes = 0;
  const t0 = performance.now();
  const d = new LogDecoder({ multiplexed: true, maxLineBytes: 1 << 20 }, (l) => {
    const doc = { '@timestamp': l.time, message: l.message, stream: l.stream, log: detectLevel(l.message), event: { created: new Date().toISOString() }, ...base };
    bytes += JSON.stringify(doc).length + deterministicId('c', l.stream, l.sec, l.nanos, 0).length;
  });
  for (let off = 0; off < stream.length; off += 65536) d.push(stream.subarray(off, off + 65536));
  d.end();
  void bytes;
  return lines / ((performance.now() - t0) / 1000);
}

async function main(): Promise<void> {
  const total = Number(process.argv[2] ?? 200_000);
  const containers = Number(process.argv[3] ?? 4);
  const per = Math.floor(total / containers);
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('bench');
  const index = `logs-dockward.container-${ns}`;
  try {
    await Promise.all(Array.from({ length: containers }, (_, i) => runContainer(docker, { name: `${ns}-${i}`, cmd: seqCommand(`c${i}`, per), wait: true })));
    const t0 = performance.now();
    const dw = DockwardProcess.run({ namespace: ns, sets: ['collectors.events.enabled=false'] });
    let peak = 0;
    const sampler = setInterval(() => (peak = Math.max(peak, peakRssMb(dw.pid) || 0)), 200);
    const n = await waitForCount(es, index, per * containers, 600_000, undefined, dw.alive);
    const secs = (performance.now() - t0) / 1000;
    peak = Math.max(peak, peakRssMb(dw.pid) || 0);
    clearInterval(sampler);
    await dw.kill('SIGTERM');
    const cpu = hotPath(200_000);
    console.log(`logs-throughput: ${n} lines from ${containers} containers in ${secs.toFixed(1)} s`);
    console.log(`  end to end:        ${Math.round(n / secs)} lines/s (includes process start and Elasticsearch indexing)`);
    console.log(`  dockward peak RSS: ${peak.toFixed(0)} MB`);
    console.log(`  hot path (CPU):    ${Math.round(cpu)} lines/s decode+ECS+serialize on one core; end-to-end/hot-path = ${(n / secs / cpu).toFixed(2)}`);
  } finally {
    await removeContainers(docker, ns);
    await es.close();
  }
}

void main();
