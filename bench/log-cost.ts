/**
 * What a log line costs, end to end on the real engines, beside Fluent Bit in the same run
 * (issue 20's workload): one container prints N lines of ~95 bytes (json-file driver), then each
 * shipper alone ships them into the same Elasticsearch, one after the other, for `rounds` rounds.
 * Per shipper and round: lines/s until all N are searchable, CPU-seconds per 100k lines of its
 * whole process tree (dockward's kernel reader included), peak RSS.
 *   dockward logs-only   every other collector, detection and anomaly off (queue.replayable: memory)
 *   logs-only, spooled   the same with queue.replayable: disk (every line through the disk spool)
 *   dockward default     the default config
 *   Fluent Bit           when FLUENTBIT=<binary> is given (built locally from its public source;
 *                        never committed): tail + docker (json) parser → es, create, 2 workers
 * Plus Elasticsearch's own ceiling for the same documents: the lines as built documents, bulk
 * `create` from this process with 2 requests in flight (the rate no shipper can pass here).
 *   npm run bench -- log-cost [lines=200000] [rounds=3] [sets=key=value,...]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Client } from '@elastic/elasticsearch';
import { configSchema } from '../src/config/schema';
import { adminClient, engines, newNamespace } from '../test/support/engines';
import { removeContainers, runContainer } from '../test/support/containers';
import { treeCpuSec, treeMemoryMb } from '../test/support/proc-tree';
import { DockwardProcess } from '../test/support/dockward';

const arg = (name: string, dflt: number) => Number(process.argv.find((a) => a.startsWith(`${name}=`))?.slice(name.length + 1) ?? dflt);
const LINES = arg('lines', 200_000);
const ROUNDS = arg('rounds', 3);
// Extra settings for every dockward run, for experiments: sets=queue.memory.max_docs=4800,...
const EXTRA = process.argv.find((a) => a.startsWith('sets='))?.slice(5).split(',').filter(Boolean) ?? [];

// Every collector but logs, from the schema's own list; detection and anomaly off.
const LOGS_ONLY = [
  ...Object.keys(configSchema.parse({}).collectors).filter((c) => c !== 'logs').map((c) => `collectors.${c}.enabled=false`),
  'detect.enabled=false',
  'anomaly.enabled=false',
];

interface Row { name: string; lps: number; cpuPer100k: number; rssMb: number }

async function count(es: Client, index: string): Promise<number> {
  try {
    await es.indices.refresh({ index });
    return (await es.count({ index })).count;
  } catch {
    return 0;
  }
}

/** Samples a process tree until `index` holds `n` documents: wall time, CPU and peak RSS from the shipper's start. */
async function measure(es: Client, index: string, n: number, pid: () => number, alive: () => void): Promise<{ secs: number; cpu: number; rss: number }> {
  const t0 = performance.now();
  let rss = 0;
  let cpu = 0;
  for (;;) {
    rss = Math.max(rss, treeMemoryMb(pid(), 'VmHWM'));
    cpu = Math.max(cpu, treeCpuSec(pid()));
    const got = await count(es, index);
    if (got >= n) break;
    alive(); // throws, with what the shipper said, once it died
    if (performance.now() - t0 > 900_000) throw new Error(`${index}: ${got} of ${n} documents after 15 minutes`);
    await new Promise((r) => setTimeout(r, 250));
  }
  return { secs: (performance.now() - t0) / 1000, cpu: Math.max(cpu, treeCpuSec(pid())), rss };
}

async function dockward(es: Client, name: string, ns: string, source: string, sets: string[]): Promise<Row> {
  const dw = DockwardProcess.run({ namespace: ns, sets: [`collectors.logs.include_names=[${source}]`, ...sets, ...EXTRA] });
  try {
    const m = await measure(es, `logs-dockward.container-${ns}`, LINES, () => dw.pid, dw.alive);
    return { name, lps: LINES / m.secs, cpuPer100k: (m.cpu / LINES) * 100_000, rssMb: m.rss };
  } finally {
    await dw.kill('SIGTERM');
  }
}

async function fluentBit(es: Client, bin: string, ns: string, logPath: string): Promise<Row> {
  const dir = mkdtempSync(join(tmpdir(), 'dw-fluentbit-'));
  const index = `fluentbit-${ns}`;
  const url = new URL(engines().esUrl);
  writeFileSync(join(dir, 'parsers.conf'), '[PARSER]\n    Name docker\n    Format json\n    Time_Key time\n    Time_Format %Y-%m-%dT%H:%M:%S.%L\n    Time_Keep On\n');
  writeFileSync(join(dir, 'fluent-bit.conf'), `[SERVICE]
    Flush 1
    Log_Level warn
    Parsers_File ${join(dir, 'parsers.conf')}
[INPUT]
    Name tail
    Path ${logPath}
    Parser docker
    Read_from_Head On
    DB ${join(dir, 'tail.db')}
    Buffer_Chunk_Size 256k
    Buffer_Max_Size 1m
    Mem_Buf_Limit 64m
[OUTPUT]
    Name es
    Match *
    Host ${url.hostname}
    Port ${url.port}
    Index ${index}
    Suppress_Type_Name On
    Write_Operation create
    Generate_ID On
    Buffer_Size False
    Workers 2
`);
  const p: ChildProcess = spawn(bin, ['-q', '-c', join(dir, 'fluent-bit.conf')], { stdio: ['ignore', 'ignore', 'inherit'] });
  try {
    const m = await measure(es, index, LINES, () => p.pid!, () => {
      if (p.exitCode !== null) throw new Error(`Fluent Bit exited (${p.exitCode})`);
    });
    return { name: 'Fluent Bit', lps: LINES / m.secs, cpuPer100k: (m.cpu / LINES) * 100_000, rssMb: m.rss };
  } finally {
    await es.indices.delete({ index }).catch(() => undefined);
    p.kill('SIGTERM');
    await new Promise((r) => p.once('exit', r));
  }
}

/** Elasticsearch's own rate for documents like dockward's: bulk create, 1,600 a request, 2 in flight. */
async function ceiling(es: Client, ns: string): Promise<Row> {
  // A plain index (deleted after), not a data stream: the minimal distribution cannot delete those.
  const index = `dwbench-ceiling-${ns}`;
  const doc = (i: number) => ({ '@timestamp': new Date(Date.UTC(2026, 11, 3) + i).toISOString(), message: line(i), stream: 'stdout', event: { kind: 'event', dataset: 'dockward.ceiling' }, container: { id: 'c'.repeat(64), name: 'bench' }, data_stream: { type: 'logs', dataset: 'dockward.ceiling', namespace: ns } });
  const t0 = performance.now();
  let next = 0;
  const worker = async () => {
    while (next < LINES) {
      const from = next;
      next = Math.min(LINES, next + 1600);
      const body: unknown[] = [];
      for (let i = from; i < next; i++) body.push({ create: { _index: index, _id: `b${i}` } }, doc(i));
      // A loaded test node answers 429 (its circuit breaker): again after a pause, as a shipper would.
      for (let attempt = 0; ; attempt++) {
        try {
          const res = await es.bulk({ operations: body });
          if (!res.errors) break;
        } catch (err) {
          if ((err as { meta?: { statusCode?: number } }).meta?.statusCode !== 429 || attempt > 20) throw err;
        }
        await new Promise((r) => setTimeout(r, 250 * (attempt + 1)));
      }
    }
  };
  await Promise.all([worker(), worker()]);
  while ((await count(es, index)) < LINES) await new Promise((r) => setTimeout(r, 100));
  await es.indices.delete({ index }).catch(() => undefined);
  return { name: 'Elasticsearch bulk ceiling', lps: LINES / ((performance.now() - t0) / 1000), cpuPer100k: NaN, rssMb: NaN };
}

const line = (i: number) => `127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] "GET /api/v1/items/${String(i).padStart(8, '0')} HTTP/1.1" 200 512 "-" "curl/8.5"`;

async function main(): Promise<void> {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('lcost');
  const source = `${ns}-printer`;
  const rows: Row[] = [];
  try {
    const awk = `BEGIN{for(i=1;i<=${LINES};i++) printf "127.0.0.1 - - [03/Dec/2026:10:00:00 +0000] \\"GET /api/v1/items/%08d HTTP/1.1\\" 200 512 \\"-\\" \\"curl/8.5\\"\\n", i}`;
    const { id } = await runContainer(docker, { name: source, cmd: ['awk', awk], wait: true });
    const logPath = ((await docker.getContainer(id).inspect()) as { LogPath: string }).LogPath;
    const fb = process.env.FLUENTBIT;
    for (let r = 1; r <= ROUNDS; r++) {
      rows.push(await dockward(es, 'dockward logs-only', `${ns}r${r}a`, source, LOGS_ONLY));
      rows.push(await dockward(es, 'dockward logs-only, spooled', `${ns}r${r}b`, source, [...LOGS_ONLY, 'queue.replayable=disk']));
      rows.push(await dockward(es, 'dockward default', `${ns}r${r}c`, source, []));
      if (fb) rows.push(await fluentBit(es, fb, `${ns}r${r}`, logPath));
      rows.push(await ceiling(es, `${ns}r${r}`));
      console.error(`round ${r} of ${ROUNDS} done`);
    }
    console.log(`log-cost: ${LINES} lines of ~95 bytes from one json-file container, ${ROUNDS} round(s), shippers one at a time${fb ? '' : ' (FLUENTBIT unset: no Fluent Bit rows)'}`);
    console.log(`  ${'shipper'.padEnd(30)} ${'lines/s'.padStart(16)}  ${'CPU-s/100k'.padStart(12)}  ${'peak RSS MB'.padStart(12)}`);
    const names = [...new Set(rows.map((r) => r.name))];
    const range = (xs: number[], d: number) => (xs.some(Number.isNaN) ? '-' : `${Math.min(...xs).toFixed(d)}–${Math.max(...xs).toFixed(d)}`);
    for (const n of names) {
      const of = rows.filter((r) => r.name === n);
      console.log(`  ${n.padEnd(30)} ${range(of.map((r) => r.lps), 0).padStart(16)}  ${range(of.map((r) => r.cpuPer100k), 2).padStart(12)}  ${range(of.map((r) => r.rssMb), 0).padStart(12)}`);
    }
    // Ratios within each round: the machine is shared, so only same-round figures compare.
    const ratio = (a: string, b: string, key: 'cpuPer100k' | 'lps') => {
      const xs = [];
      for (let r = 0; r < ROUNDS; r++) {
        const per = rows.filter((_, i) => Math.floor(i / (names.length)) === r);
        const x = per.find((p) => p.name === a)?.[key];
        const y = per.find((p) => p.name === b)?.[key];
        if (x !== undefined && y !== undefined) xs.push(x / y);
      }
      return xs.length ? range(xs, 2) : '-';
    };
    console.log(`  CPU per line, same round: logs-only / spooled ${ratio('dockward logs-only', 'dockward logs-only, spooled', 'cpuPer100k')}` +
      (fb ? `; logs-only / Fluent Bit ${ratio('dockward logs-only', 'Fluent Bit', 'cpuPer100k')}; default / Fluent Bit ${ratio('dockward default', 'Fluent Bit', 'cpuPer100k')}` : ''));
    console.log(`  end to end / Elasticsearch's ceiling: logs-only ${ratio('dockward logs-only', 'Elasticsearch bulk ceiling', 'lps')}, default ${ratio('dockward default', 'Elasticsearch bulk ceiling', 'lps')}`);
  } finally {
    await removeContainers(docker, ns);
    await es.close();
  }
}

void main().catch((err) => {
  console.error(err);
  process.exit(1);
});
