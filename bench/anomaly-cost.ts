/**
 * What the anomaly model costs per container: retained heap per container model and CPU per 1,000
 * container-intervals (one interval = one stats document through SignalAccumulator and
 * ContainerModel, as in `dockward run`), with every signal varying like a busy service's.
 *   node --expose-gc dist/bench/anomaly-cost.js [containers=50] [intervals=360] [--core variant]
 * `--core <NAB variant>` runs that variant's univariate core (src/anomaly/variants.ts) per signal
 * instead of the daemon's, over the same vectors, with the model's warm-up as its probationary
 * period: what it would cost as the daemon's core.
 * 360 intervals = 1 hour at the default 10 s stats schedule: long enough for CAD's contexts to
 * near their cap.
 */
import { ContainerModel, modelConfig } from '../src/anomaly/model';
import { SignalAccumulator, SIGNALS, type Vector } from '../src/anomaly/signals';
import { VARIANTS, type Scorer } from '../src/anomaly/variants';

const argv = process.argv.slice(2);
const coreAt = argv.indexOf('--core');
const core = coreAt >= 0 ? argv.splice(coreAt, 2)[1] : undefined;
if (core && !VARIANTS[core]) throw new Error(`unknown variant ${core}; known: ${Object.keys(VARIANTS).join(', ')}`);
const containers = Number(argv[0] ?? 50);
const intervals = Number(argv[1] ?? 360);

/** One container under a NAB variant's core: a scorer per signal, the largest score. */
class VariantModel {
  private readonly scorers = new Map<string, Scorer>();
  constructor(private readonly warmup: number) {}
  update(v: Vector): number {
    let best = 0;
    for (const s of SIGNALS) {
      const x = v[s];
      if (x === undefined) continue;
      let f = this.scorers.get(s);
      if (!f) this.scorers.set(s, (f = VARIANTS[core!]({ min: 0, max: 0, probation: this.warmup })));
      best = Math.max(best, f(x, 0));
    }
    return best;
  }
}
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
  // typed arrays (CAD's context table) live outside the JS heap: count their buffers too
  const used = (): number => ((u) => u.heapUsed + u.arrayBuffers)(process.memoryUsage());
  const heap0 = used();
  const models: Array<{ m: ContainerModel; s: SignalAccumulator; alt?: VariantModel }> = [];
  for (let c = 0; c < containers; c++) models.push({ m: new ContainerModel(cfg), s: new SignalAccumulator(), alt: core ? new VariantModel(cfg.warmup) : undefined });
  const cpu0 = process.cpuUsage();
  let scored = 0;
  for (let i = 0; i < intervals; i++) {
    for (let c = 0; c < containers; c++) {
      const { m, s, alt } = models[c];
      const starts = Math.round(2 * rnd());
      for (let k = 0; k < starts; k++) s.countProcess({ event: { type: ['start'], provider: 'poll' } });
      const lines = Math.round(20 * rnd());
      for (let k = 0; k < lines; k++) s.countLog({ stream: rnd() < 0.1 ? 'stderr' : 'stdout' });
      // drift scans once a minute (every 6th interval) and finds a few new files
      if (i % 6 === 0) for (let k = Math.round(4 * rnd()); k > 0; k--) s.countFile({ event: { type: ['creation'] } });
      const v = s.fromStats(statsDoc(i, c));
      if (v) {
        if (alt) alt.update(v);
        else m.update(v);
        scored++;
      }
    }
  }
  const cpu = process.cpuUsage(cpu0);
  gc?.();
  const heap = used() - heap0;
  const contexts = models.reduce((a, x) => a + x.m.contexts, 0) / containers;
  const stateBytes = models.slice(0, 20).reduce((a, x) => a + JSON.stringify(x.m.snapshot()).length, 0) / Math.min(20, containers);
  console.log(`anomaly model${core ? ` (core: NAB variant ${core})` : ''}: ${containers} containers × ${intervals} intervals (${scored} scored)`);
  console.log(`  CPU per 1,000 container-intervals: ${(((cpu.user + cpu.system) / 1000 / scored) * 1000).toFixed(1)} ms`);
  console.log(`  retained heap per container: ${(heap / containers / 1024).toFixed(1)} KiB${gc ? '' : ' (no --expose-gc: includes garbage)'}`);
  if (core) return;
  console.log(`  CAD contexts per container (${SIGNALS.length} signals): ${contexts.toFixed(0)} (cap ${cfg.max_contexts} per quantiser, two per signal)`);
  console.log(`  persisted state per container: ${(stateBytes / 1024).toFixed(1)} KiB of JSON`);
}

main();
