/**
 * How many execs of a burst of short commands keep their command line, with the kernel reader as
 * dockward runs it (proc connector + process table + /proc reads), audit off and then on. A real
 * container on the test engine runs `for i in $(seq N); do id; uname -a; cat /etc/hostname; done`
 * (commands by path, so busybox's shell execs them); the reader runs on this thread.
 *   DOCKER_HOST=… node dist/bench/audit-exec.js [image=busybox|lab] [n=2000] [modes=off,on]
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { KernelSource, type SourceOptions } from '../src/collect/kernel/source';
import type { ProcessFact } from '../src/collect/kernel/facts';
import { bootTimeMs } from '../src/collect/kernel/procfs';
import { auditConfig, sourceOptions } from '../src/collect/audit/source';

const arg = (name: string, def: string) => process.argv.find((a) => a.startsWith(`${name}=`))?.split('=')[1] ?? def;
const IMAGE = arg('image', 'busybox') === 'lab' ? 'dockward/lab:1' : 'dockward/busybox:1';
const N = Number(arg('n', '2000'));
const MODES = arg('modes', 'off,on').split(',');
const BIN = IMAGE.includes('lab') ? { id: '/usr/bin/id', uname: '/bin/uname', cat: '/bin/cat', seq: '/usr/bin/seq' } : { id: '/bin/id', uname: '/bin/uname', cat: '/bin/cat', seq: '/bin/seq' };
const COMMANDS = new Set([BIN.id, `${BIN.uname} -a`, `${BIN.cat} /etc/hostname`]);
const OTHERS = new Set(['sh', 'sleep', 'seq']);

// Asynchronous: the reader runs on this thread, a synchronous wait would stop it reading.
const docker = async (...a: string[]) => (await promisify(execFile)('docker', a, { encoding: 'utf8' })).stdout.trim();
const until = async (what: string, ok: () => boolean, ms = 120_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

async function run(mode: string): Promise<void> {
  const facts: ProcessFact[] = [];
  const a = auditConfig.parse({});
  const opts: SourceOptions = {
    maxProcesses: 32768, receiveBuffer: 4 << 20, maxReceiveBuffer: 64 << 20, bootMs: bootTimeMs()!,
    audit: mode === 'on' ? { ...sourceOptions(a), waitMs: a.join_wait, asked: true } : undefined,
  };
  const src = new KernelSource(opts, (b) => facts.push(...b), (n) => { if (n.level !== 'debug') console.error(`  ${n.name}: ${n.message}`); });
  await src.start();
  if (mode === 'on') await until('audit started', () => src.stats.audit?.running === true, 10_000);
  const script = `sleep 1; for i in $(${BIN.seq} ${N}); do ${BIN.id} >/dev/null; ${BIN.uname} -a >/dev/null; ${BIN.cat} /etc/hostname >/dev/null; done`;
  const t0 = Date.now();
  const id = await docker('run', '-d', '--network', 'none', '--name', `bench-audit-${process.pid}-${mode}`, IMAGE, 'sh', '-c', script);
  try {
    await docker('wait', id);
    const secs = (Date.now() - t0) / 1000;
    // The shell's end comes after its children's; then whatever waits for its audit event.
    await until('the shell\'s end', () => facts.some((f) => f.container === id && f.type === 'end' && f.vpid === 1));
    await until('the join to drain', () => (src.stats.audit?.waiting ?? 0) === 0);
    // Every start but the shell's own and its `sleep 1` and `seq`; one lost to the exit race has no args, often no name.
    const burst = facts.filter((f) => f.container === id && f.type === 'start' && !f.scan && !f.noexec && !f.forkOnly && f.vpid !== 1
      && !(f.args && /^(sleep|\/bin\/seq|\/usr\/bin\/seq)$/.test(f.args[0])) && !(!f.args && OTHERS.has(f.name ?? '')));
    const full = burst.filter((f) => f.args && COMMANDS.has(f.args.join(' ')));
    const stats = src.stats;
    const au = stats.audit;
    console.log(
      `audit-exec ${IMAGE} audit ${mode}: ${N * 3} execs in ${secs.toFixed(1)} s (${Math.round((N * 3) / secs)}/s); ` +
        `${burst.length} start documents, ${full.length} with their full command line (${((full.length / (N * 3)) * 100).toFixed(1)} %), ` +
        `${burst.length - full.length} without (exit race); from audit ${burst.filter((f) => f.source === 'audit').length}; ` +
        `kernel overruns ${stats.overruns}` +
        (au ? `; audit records ${au.records}, joined ${au.joined}, /proc fallback ${au.procOnly}, unmatched ${au.unmatched}, lost ${au.lost}, socket overruns ${au.overruns}, timeouts ${au.timeouts}` : ''),
    );
  } finally {
    await docker('rm', '-f', id);
    await src.stop();
  }
}

void (async () => {
  for (const m of MODES) await run(m);
})();
