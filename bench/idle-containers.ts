/**
 * The cost of watching 50 idle containers with every collector on at its default interval:
 * dockward's CPU and RSS, and the extra CPU it causes in the engine (dockerd, containerd, shims,
 * and the `ps` that `top` runs), against a baseline of the same engine with no dockward, measured
 * in one run over the same window length.
 *   node dist/bench/idle-containers.js [containers=50] [seconds=60] [warmup=45]
 * (issue 20's figures: 100 containers, 90 s after a 45 s warm-up)
 */
import { readdirSync, readFileSync } from 'node:fs';
import { adminClient, engines, newNamespace } from '../test/support/engines';
import { removeContainers, runContainer } from '../test/support/containers';
import { treeCpuSec, treeMemoryMb } from '../test/support/proc-tree';
import { DockwardProcess } from '../test/support/dockward';

const TICK = 100; // USER_HZ
const ENGINE = new Set(['dockerd', 'containerd', 'containerd-shim', 'containerd-shim-runc-v2', 'ps', 'runc']);

function cpuTicks(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    // utime, stime, and those of waited-for children (dockerd's `ps`, the shims' runc)
    return Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
  } catch {
    return 0;
  }
}

function engineTicks(): number {
  let sum = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const comm = readFileSync(`/proc/${d}/comm`, 'latin1').trim();
      if (ENGINE.has(comm)) sum += cpuTicks(Number(d));
    } catch {
      // gone
    }
  }
  return sum;
}

const rssMb = (pid: number, field: 'VmRSS' | 'VmHWM') => treeMemoryMb(pid, field);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 50);
  const seconds = Number(process.argv[3] ?? 60);
  const { docker } = engines();
  const ns = newNamespace('idle');
  const es = adminClient();
  try {
    for (let i = 0; i < n; i++) await runContainer(docker, { name: `${ns}-${i}`, cmd: ['sleep', '100000'] });
    await sleep(5000);
    const e0 = engineTicks();
    await sleep(seconds * 1000);
    const baseline = (engineTicks() - e0) / TICK / seconds;

    const dw = DockwardProcess.run({ namespace: ns });
    await dw.waitFor(/metrics and health on/);
    // first snapshots, first inspect and drift scan of every container, first posture scan
    await sleep(Number(process.argv[4] ?? 45) * 1000);
    const d0 = treeCpuSec(dw.pid);
    const e1 = engineTicks();
    await sleep(seconds * 1000);
    const dockwardCpu = (treeCpuSec(dw.pid) - d0) / seconds;
    const engineWith = (engineTicks() - e1) / TICK / seconds;
    const rss = rssMb(dw.pid, 'VmRSS');
    const hwm = rssMb(dw.pid, 'VmHWM');
    const m = await dw.metrics();
    await dw.kill('SIGTERM');
    console.log(`idle-containers: ${n} idle containers, all collectors at default intervals, ${seconds} s windows`);
    console.log(`  dockward CPU:        ${(dockwardCpu * 100).toFixed(1)} % of one core`);
    console.log(`  dockward RSS:        ${rss.toFixed(0)} MB now, ${hwm.toFixed(0)} MB peak`);
    console.log(`  engine CPU baseline: ${(baseline * 100).toFixed(1)} % of one core (no dockward)`);
    console.log(`  engine CPU with:     ${(engineWith * 100).toFixed(1)} % (extra ${((engineWith - baseline) * 100).toFixed(1)} %)`);
    console.log(`  documents acked:     ${m['dockward_documents_total{outcome=acked}'] ?? 0}`);
  } finally {
    await removeContainers(docker, ns);
    await es.close();
  }
}

void main();
