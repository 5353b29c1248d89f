/**
 * The cost of one connections read (collectors.connections), on the real engine: N containers
 * (--network none) each holding C connections on its own 127.0.0.1 (C/2 client ends and C/2
 * accepted ends, one node process per container), then one container with thousands of connections.
 * Prints the CPU time of one read: the first (every socket new: owner walk through /proc/<pid>/fd,
 * documents), a steady one (nothing changed) and one after a change in every container.
 *   node dist/bench/connections.js [containers=50] [connections=100] [big=5000]
 */
import winston from 'winston';
import type Docker from 'dockerode';
import { ConnectionsCollector, connectionsConfig } from '../src/collect/connections';
import type { Output } from '../src/collect/collector';
import { MetadataCache } from '../src/enrich/metadata';
import type { Envelope } from '../src/ship/envelope';
import { Telemetry } from '../src/telemetry/telemetry';
import { engines, newNamespace } from '../test/support/engines';
import { removeContainers, runContainer } from '../test/support/containers';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** node from the host through its loader, in a busybox container: one process holding `pairs` connections to itself. */
function nodeHolding(pairs: number): { cmd: string[]; hostConfig: Docker.HostConfig } {
  const js = `const net=require('net');const all=[];net.createServer((c)=>all.push(c)).listen({port:7000,host:'127.0.0.1',backlog:4096},()=>{let n=0;const go=()=>{for(let i=0;i<200&&n<${pairs};i++,n++)all.push(net.connect(7000,'127.0.0.1'));if(n<${pairs})setTimeout(go,20)};go()});process.on('SIGUSR2',()=>{for(let i=0;i<5;i++)all.push(net.connect(7000,'127.0.0.1'))});setInterval(()=>{},1e6)`;
  return {
    cmd: ['/opt/node/lib/ld-linux-x86-64.so.2', '--library-path', '/opt/node/lib', '/opt/node/node', '-e', js],
    hostConfig: { Binds: [`${process.execPath}:/opt/node/node:ro`, '/usr/lib/x86_64-linux-gnu:/opt/node/lib:ro'] },
  };
}

async function timedTick(c: ConnectionsCollector): Promise<{ cpuMs: number; wallMs: number; readMs: number; docs: number; sockets: number; namespaces: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  const s = await c.tick();
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const cpu = process.cpuUsage(cpu0);
  if (!s) throw new Error('no read (collector unavailable?)');
  return { cpuMs: (cpu.user + cpu.system) / 1000, wallMs, readMs: s.ms, docs: s.documents, sockets: s.sockets, namespaces: s.namespaces };
}

async function main(): Promise<void> {
  const n = Number(process.argv[2] ?? 50);
  const conns = Number(process.argv[3] ?? 100);
  const big = Number(process.argv[4] ?? 5000);
  const { docker } = engines();
  const ns = newNamespace('bconn');
  const docs: Envelope[] = [];
  const output: Output = { send: (e) => void docs.push(e), writable: true, whenWritable: async () => undefined };
  const telemetry = new Telemetry(winston.createLogger({ silent: true }));
  const ctx = { docker, metadata: new MetadataCache(docker), output, telemetry, namespace: ns } as unknown as ConstructorParameters<typeof ConnectionsCollector>[0];
  try {
    const ids: string[] = [];
    for (let i = 0; i < n; i++) {
      const { cmd, hostConfig } = nodeHolding(conns / 2);
      ids.push((await runContainer(docker, { name: `${ns}-${i}`, cmd, hostConfig })).id);
    }
    await sleep(3000);
    // Other containers on this engine are read too: the figures below name how many namespaces a read covered.
    const c = new ConnectionsCollector(ctx, connectionsConfig.parse({ schedule: '0 0 1 1 *' }));
    await c.start();
    await c.tick(); // container list, inspects, metadata: once per container, not per read
    // Measure the first read of our namespaces as it is: a fresh collector whose caches are warm.
    const first = new ConnectionsCollector(ctx, connectionsConfig.parse({ schedule: '0 0 1 1 *' }));
    await first.start();
    const r1 = await timedTick(first);
    const steady: number[] = [];
    const reads: number[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await timedTick(first);
      steady.push(r.cpuMs);
      reads.push(r.readMs);
    }
    const readSteady = reads.sort((a, b) => a - b)[2];
    for (const id of ids) await docker.getContainer(id).kill({ signal: 'SIGUSR2' });
    await sleep(500);
    const r3 = await timedTick(first);
    await first.stop();
    await c.stop();
    const med = steady.sort((a, b) => a - b)[2];
    console.log(`connections: ${n} containers × ${conns} connections (${r1.sockets} sockets in ${r1.namespaces} namespaces read, other containers of the engine included)`);
    console.log(`  first read (all new, owners looked up): ${r1.cpuMs.toFixed(1)} ms CPU, ${r1.wallMs.toFixed(1)} ms wall, ${r1.docs} documents → ${(r1.cpuMs / n).toFixed(2)} ms per container`);
    console.log(`  steady read (no change):                ${med.toFixed(1)} ms CPU (median of 5) → ${(med / n).toFixed(3)} ms per container; of which after the container list: ${readSteady.toFixed(1)} ms wall`);
    console.log(`  read after 5 new connections in each:   ${r3.cpuMs.toFixed(1)} ms CPU, ${r3.docs} documents → ${(r3.cpuMs / n).toFixed(2)} ms per container`);
    await removeContainers(docker, ns);

    // One container with thousands of connections.
    const { cmd, hostConfig } = nodeHolding(big);
    await runContainer(docker, { name: `${ns}-big`, cmd, hostConfig });
    await sleep(5000);
    const bc = new ConnectionsCollector(ctx, connectionsConfig.parse({ schedule: '0 0 1 1 *' }));
    await bc.start();
    docs.length = 0;
    const b1 = await timedTick(bc);
    const bSteady: number[] = [];
    for (let i = 0; i < 5; i++) bSteady.push((await timedTick(bc)).cpuMs);
    await bc.stop();
    const bigDocs = docs.filter((d) => (d.doc.container as { name?: string } | undefined)?.name === `${ns}-big`);
    const summaries = bigDocs.filter((d) => (d.doc.dockward as { network?: { summary?: boolean } }).network?.summary);
    console.log(`connections: one container with ${big} connections (${2 * big} sockets; ${b1.sockets} sockets read in ${b1.namespaces} namespaces)`);
    console.log(`  first read: ${b1.cpuMs.toFixed(1)} ms CPU, ${b1.wallMs.toFixed(1)} ms wall; ${bigDocs.length} documents for this container (${summaries.length} summaries)`);
    console.log(`  steady read: ${bSteady.sort((a, b) => a - b)[2].toFixed(1)} ms CPU (median of 5)`);
  } finally {
    await removeContainers(docker, ns);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
