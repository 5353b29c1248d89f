/**
 * What the anomaly model costs per container: retained heap per container model and CPU per 1,000
 * container-intervals (one interval = one stats document through SignalAccumulator and
 * ContainerModel, as in `dockward run`), with every signal varying like a busy service's.
 *   node --expose-gc dist/bench/anomaly-cost.js [containers=50] [intervals=360]
 * 360 intervals = 1 hour at the default 10 s stats schedule: long enough for CAD's contexts to
 * near their cap.
 */
import { ContainerModel, modelConfig } from '../src/anomaly/model';
import { SignalAccumulator } from '../src/anomaly/signals';

const containers = Number(process.argv[2] ?? 50);
const intervals = Number(process.argv[3] ?? 360);
const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) console.warn('run with --expose-gc for a retained-memory figure');

// deterministic pseudo-random workload: daily-ish sine, noise and rare spikes
let seed = 42;
const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);

function statsDoc(i: number, c: number): Record<string, unknown> {
  const phase = Math.sin((i + c * 7) / 60);
  const cpu = Math.max(0, 20 + 15 * phase + 5 * rnd() + (rnd() < 0.005 ? 80 : 0));
  return {
    '@timestamp': new Date(1_700_000_000_000 + i * 10_000).toISOString(),
    container: { id: `c${c}`, disk: { read: { bytes: i * 4096 * (1 + rnd()) }, write: { bytes: i * 65536 * (1 + rnd()) } } },
    docker: {
      cpu: { pct: cpu },
      memory: { usage: { bytes: (200 + 20 * phase + 5 * rnd()) * 2 ** 20 } },
      network: { rx: { rate: 50_000 * (1 + phase) * rnd() }, tx: { rate: 20_000 * (1 + phase) * rnd() } },
      pids: 10 + Math.round(3 * rnd()),
    },
  };
}

function main(): void {
  const cfg = modelConfig.parse({});
  gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const models: Array<{ m: ContainerModel; s: SignalAccumulator }> = [];
  for (let c = 0; c < containers; c++) models.push({ m: new ContainerModel(cfg), s: new SignalAccumulator() });
  const cpu0 = process.cpuUsage();
  let scored = 0;
  for (let i = 0; i < intervals; i++) {
    for (let c = 0; c < containers; c++) {
      const { m, s } = models[c];
      const starts = Math.round(2 * rnd());
      for (let k = 0; k < starts; k++) s.countProcess({ event: { type: ['start'], provider: 'poll' } });
      const lines = Math.round(20 * rnd());
      for (let k = 0; k < lines; k++) s.countLog({ stream: rnd() < 0.1 ? 'stderr' : 'stdout' });
      const v = s.fromStats(statsDoc(i, c));
      if (v) {
        m.update(v);
        scored++;
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  gc?.();
  const heap = process.memoryUsage().heapUsed - heap0;
  const contexts = models.reduce((a, x) => a + x.m.contexts, 0) / containers;
  const stateBytes = models.slice(0, 20).reduce((a, x) => a + JSON.stringify(x.m.snapshot()).length, 0) / Math.min(20, containers);
  console.log(`anomaly model: ${containers} containers × ${intervals} intervals (${scored} scored)`);
  console.log(`  CPU per 1,000 container-intervals: ${(((cpu.user + cpu.system) / 1000 / scored) * 1000).toFixed(1)} ms`);
  console.log(`  retained heap per container: ${(heap / containers / 1024).toFixed(1)} KiB${gc ? '' : ' (no --expose-gc: includes garbage)'}`);
  console.log(`  CAD contexts per container (11 signals): ${contexts.toFixed(0)} (cap ${cfg.max_contexts} per signal)`);
  console.log(`  persisted state per container: ${(stateBytes / 1024).toFixed(1)} KiB of JSON`);
}

main();
