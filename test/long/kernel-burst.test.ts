import assert from 'node:assert/strict';
import { treeMemoryMb } from '../support/proc-tree';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { waitForCount } from '../support/elasticsearch';

/** utime + stime of a process, in seconds. */
function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}
const rssMb = (pid: number) => treeMemoryMb(pid);

const N = Number(process.env.DWTEST_BURST ?? 20_000);

describe('kernel process events under a burst (real dockerd, real kernel)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('kburst');
  let dw: DockwardProcess;

  before(async () => {
    // Polling off: every process document here is the kernel's. Detection off and no per-container
    // document budget (it would fold the burst, flood.ts): the figure is the collector's capacity.
    dw = DockwardProcess.run({ namespace: ns, sets: ['collectors.kernel.enabled=true', 'collectors.kernel.documents_per_second=0', 'collectors.processes.enabled=false', 'detect.enabled=false', 'collectors.drift.enabled=false'] });
    await dw.waitFor(/kernel process events: subscribed/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it(`${N} processes as fast as a container can spawn them: seen, command line read, lost to the exit race, dropped by the kernel`, async () => {
    const m0 = await dw.metrics();
    const cpu0 = cpuSeconds(dw.pid);
    const rss0 = rssMb(dw.pid);
    let rssPeak = rss0;
    // A sampler that threw (dockward gone) would keep the test file alive forever: it stops, and
    // dockward's death is reported by dw.alive() below, with its log.
    const sampler = setInterval(() => {
      try {
        rssPeak = Math.max(rssPeak, rssMb(dw.pid));
      } catch {
        clearInterval(sampler);
      }
    }, 200);
    const t0 = Date.now();
    const { id, exitCode } = await runContainer(docker, {
      name: `${ns}-burst`,
      // Four loops at once: one shell alone forks too slowly to press the reader.
      cmd: ['sh', '-c', `for j in 1 2 3 4; do (i=0; while [ $i -lt ${N / 4} ]; do /bin/true burst-$j-$i; i=$((i+1)); done) & done; wait`],
      wait: true,
    });
    const seconds = (Date.now() - t0) / 1000;
    assert.equal(exitCode, 0);
    const index = `logs-dockward.process-${ns}`;
    const q = { bool: { filter: [{ term: { 'container.id': id } }, { term: { 'event.type': 'start' } }] } };
    // Until the count stops growing: events the kernel dropped never come.
    let starts = 0;
    for (let last = -1, still = 0; still < 3; ) {
      starts = await waitForCount(es, index, N + 5, 2000, q, dw.alive);
      still = starts === last ? still + 1 : 0;
      last = starts;
    }
    clearInterval(sampler);
    const cpu = cpuSeconds(dw.pid) - cpu0;
    await new Promise((r) => setTimeout(r, 1500)); // the reader thread reports its counters every second
    const m = await dw.metrics();
    const d = (k: string) => (m[k] ?? 0) - (m0[k] ?? 0);
    const read = d('dockward_kernel_execs_total{result=read}');
    const race = d('dockward_kernel_execs_total{result=exit_race}');
    const unattributed = d('dockward_kernel_execs_total{result=unattributed}');
    const overruns = d('dockward_kernel_overruns_total');
    const report = {
      processes: N, burst_s: seconds, execs_per_s: Math.round(N / seconds), start_documents: starts,
      cmdline_read: read, lost_to_exit_race: race, gone_before_attribution: unattributed, kernel_overruns: overruns,
      resyncs: d('dockward_kernel_resyncs_total'), dockward_cpu_s: cpu, dockward_cpu_pct: Math.round((cpu / seconds) * 100),
      rss_mb: { before: Math.round(rss0), peak: Math.round(rssPeak) }, table: m.dockward_kernel_process_table,
    };
    console.log(`kernel burst: ${JSON.stringify(report)}`);
    // Every exec the kernel delivered is a start document, its command line read or lost to the race.
    // The counters are the host's (other containers' execs too): a 1 % slack.
    assert.ok(starts >= (read + race) * 0.99, `${starts} start documents for ${read} + ${race} execs`);
    if (overruns === 0) assert.ok(read + race >= N, `no overrun: every exec accounted for (${read} read + ${race} raced)`);
    else assert.ok(report.resyncs >= 1, 'the kernel dropped events: counted, and the table resynced from /proc');
    assert.ok(m.dockward_kernel_process_table < 1000, 'finished processes leave the table');
    assert.ok(rssPeak - rss0 < 400, `memory stays bounded: ${rss0} → ${rssPeak} MB`);
  });
});
