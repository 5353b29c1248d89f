/**
 * Kernel process events handled per second on one core: recorded-style datagrams (fork, exec,
 * exit of a container shell's children, built with the kernel's layout) → parse → process table →
 * ECS document → JSON, all on this thread. /proc is replaced by a canned answer so the figure is
 * dockward's own work; a second figure adds the real /proc reads of a live process (this one), the
 * cost that grows with every exec on a real host.
 *   node dist/bench/exec-events.js [execs=200000]
 */
import { performance } from 'node:perf_hooks';
import { baseFields } from '../src/enrich/ecs';
import { processDocument } from '../src/collect/kernel/documents';
import { encodeEvent, parseDatagram } from '../src/collect/kernel/proc-events';
import { ProcessTable, type ProcessFact } from '../src/collect/kernel/process-table';
import { bootTimeMs, readProc, type ProcInfo } from '../src/collect/kernel/procfs';

const arg = (name: string, def: number) => Number(process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? def);
const N = arg('execs', 200_000);
const CID = 'c'.repeat(64);
const SHELL = 4_000_000;

function datagrams(n: number): Buffer[] {
  const out: Buffer[] = [];
  let ts = 1_000_000_000_000n;
  for (let i = 0; i < n; i++) {
    const pid = 100_000 + (i % 3_000_000);
    out.push(encodeEvent({ what: 'fork', ts: (ts += 1000n), parentPid: SHELL, parentTgid: SHELL, childPid: pid, childTgid: pid }));
    out.push(encodeEvent({ what: 'exec', ts: (ts += 1000n), pid, tgid: pid }));
    out.push(encodeEvent({ what: 'exit', ts: (ts += 1000n), pid, tgid: pid, status: (i % 3) << 8, parentTgid: SHELL }));
  }
  return out;
}

function run(label: string, read: (pid: number, boot: number | undefined, cg?: string | null) => ProcInfo): void {
  const boot = bootTimeMs() ?? 0;
  const base = baseFields('logs', 'dockward.process', 'bench');
  let docs = 0;
  let bytes = 0;
  const now = Date.now();
  const ctx = { index: 'logs-dockward.process-bench', base, meta: undefined, now, wallMs: (ts: bigint) => Number(ts / 1_000_000n), userName: () => 'root' };
  const table = new ProcessTable({ maxProcesses: 32768, bootMs: boot, read, readCgroup: () => CID }, (f: ProcessFact) => {
    const env = processDocument(f, ctx);
    bytes += JSON.stringify(env.doc).length;
    docs++;
  });
  // The container's shell, known to the table as a scan would find it.
  table.handle({ what: 'exec', ts: 1n, pid: SHELL, tgid: SHELL });
  const input = datagrams(N);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (const d of input) parseDatagram(d, (ev) => table.handle(ev));
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  console.log(
    `exec-events ${label}: ${N} execs (${input.length} events) in ${ms.toFixed(0)} ms → ${Math.round((N / ms) * 1000).toLocaleString('en')} execs/s, ` +
      `${Math.round((input.length / ms) * 1000).toLocaleString('en')} events/s on one core (CPU ${(((cpu.user + cpu.system) / 1000 / ms) * 100).toFixed(0)} %); ` +
      `${docs} documents, ${(bytes / docs).toFixed(0)} B each; table ${table.size}`,
  );
}

const canned: ProcInfo = { args: ['/bin/grep', '-c', 'kw-1', '/bin/busybox'], exe: '/bin/busybox', cwd: '/', comm: 'grep', ppid: SHELL, uid: 0, euid: 0, gid: 0, vpid: 42, container: CID };
run('parse+table+document', (_pid, boot) => ({ ...canned, start: (boot ?? 0) + 1000 }));
// Real /proc reads (6 files) of this process for every exec: the cost on a real host.
run('with /proc reads', (_pid, boot, cg) => ({ ...readProc(process.pid, boot, cg), ppid: SHELL }));
