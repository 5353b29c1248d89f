import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, newNamespace, ROOT } from '../support/engines';
import { execIn, removeContainers, retryEngine, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll, waitForCount } from '../support/elasticsearch';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

/** Polls until `find` returns something, or fails with what was there. */
async function eventually<T>(what: string, find: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await find();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

describe('collectors: processes, exec, stats, drift, configuration (real dockerd)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('col');
  let dw: DockwardProcess;
  const idx = (dataset: string, type = 'logs') => `${type}-dockward.${dataset}-${ns}`;
  const docsOf = (index: string, id: string) => fetchAll<Doc>(es, index, { term: { 'container.id': id } });

  before(async () => {
    dw = DockwardProcess.run({
      namespace: ns,
      sets: [
        'collectors.processes.schedule=* * * * * *',
        'collectors.stats.schedule=*/2 * * * * *',
        'collectors.drift.schedule=* * * * * *',
        'collectors.config.schedule=*/5 * * * * *',
        'collectors.processes.stagger=100ms', 'collectors.stats.stagger=100ms', 'collectors.drift.stagger=100ms',
      ],
    });
    await dw.waitFor(/dockward running/);
  });
  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('processes: a known parent and child start, the child ends', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-tree`, cmd: ['sh', '-c', 'sleep 3; sleep 300 & c=$!; sleep 3; kill $c; sleep 300'] });
    const docs = await eventually('the child to end', async () => {
      const d = await docsOf(idx('process'), id);
      return d.some((x) => x.event.type[0] === 'end' && x.process.command_line === 'sleep 300') ? d : undefined;
    });
    const starts = docs.filter((d) => d.event.type[0] === 'start');
    const shell = starts.find((d) => d.process.command_line?.startsWith('sh -c'))!;
    // The killed one: the shell's last `sleep 300` replaces the shell (same pid, a new image).
    const ended = docs.find((d) => d.event.type[0] === 'end' && d.process.command_line === 'sleep 300')!;
    const child = starts.find((d) => d.process.pid === ended.process.pid && d.process.command_line === 'sleep 300')!;
    assert.ok(shell && child, JSON.stringify(starts.map((d) => d.process.command_line)));
    assert.equal(child.process.parent.pid, shell.process.pid, 'the child names its parent');
    assert.equal(child.process.name, 'sleep');
    assert.deepEqual(child.process.args, ['sleep', '300']);
    assert.equal(child.process.user.name, 'root');
    // Kernel events are on by default where dockward is root (as here): the container started after
    // the subscription, so its processes are the kernel's and polling leaves them alone; without
    // the kernel polling writes them, its first look at the container marked first_snapshot.
    const kernel = (await dw.metrics()).dockward_kernel_available === 1;
    for (const d of docs) assert.equal(d.event.provider, kernel ? 'kernel' : 'poll', `${d.event.type[0]} ${d.process.command_line}: one source per process`);
    assert.equal(shell.dockward.process.first_snapshot, kernel ? undefined : true, 'polling\'s first snapshot is marked');
    assert.equal(child.dockward.process.first_snapshot, undefined);
    assert.equal(child.data_stream.dataset, 'dockward.process');
    assert.equal(starts.filter((d) => d.process.pid === child.process.pid).length, 1, 'one start for the child');
  });

  it('exec: a one-second `exec -it` with its command, tty, user and exit code', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-exec`, cmd: ['sleep', '300'] });
    const execId = await execIn(docker, id, ['sh', '-c', 'echo hi; exit 3'], { tty: true, user: 'nobody' });
    const docs = await eventually('exec start and end', async () => {
      const d = (await docsOf(idx('process'), id)).filter((x) => x.event.provider === 'exec');
      return d.length >= 2 ? d : undefined;
    });
    const start = docs.find((d) => d.event.type[0] === 'start')!;
    const end = docs.find((d) => d.event.type[0] === 'end')!;
    assert.equal(start.process.command_line, 'sh -c echo hi; exit 3');
    assert.equal(start.dockward.exec.tty, true);
    assert.equal(start.dockward.exec.user, 'nobody');
    assert.equal(start.dockward.exec.id, execId);
    assert.equal(end.process.exit_code, 3);
  });

  it('drift: a file created, one changed, one deleted', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-drift`, cmd: ['sh', '-c', 'sleep 3; echo x > /tmp/dropped; echo "evil::0:0::/:/bin/sh" >> /etc/passwd; rm /bin/vi; sleep 300'] });
    const docs = await eventually('three drift documents', async () => {
      const d = await docsOf(idx('file'), id);
      const want = ['/tmp/dropped', '/etc/passwd', '/bin/vi'];
      return want.every((p) => d.some((x) => x.file.path === p)) ? d : undefined;
    });
    const type = (p: string) => docs.find((d) => d.file.path === p)!.event.type[0];
    assert.equal(type('/tmp/dropped'), 'creation');
    assert.equal(type('/etc/passwd'), 'change');
    assert.equal(type('/bin/vi'), 'deletion');
    assert.equal(docs.find((d) => d.file.path === '/tmp/dropped')!.file.name, 'dropped');
    // for its first 3 s the container had no changes: the engine's `null` is an empty diff, not a failure
    assert.doesNotMatch(dw.log, /drift\.poll\.failed|unexpected answer to GET \/containers\/\S+\/changes/);
  });

  it('configuration: privileged with / mounted (created; this sandbox cannot start it) and all capabilities', async () => {
    const priv = await docker.createContainer({ name: `${ns}-priv`, Image: 'dockward/busybox:1', Cmd: ['sleep', '300'], HostConfig: { Privileged: true, Binds: ['/:/host'], NetworkMode: 'none' } });
    await priv.start().catch(() => undefined); // fails here (no CAP_SYS_RESOURCE); the create is what we inspect
    const caps = await runContainer(docker, { name: `${ns}-caps`, cmd: ['sleep', '300'], hostConfig: { CapAdd: ['ALL'], CapDrop: ['SYS_RESOURCE'], Binds: ['/:/host:ro'] } });
    const some = (id: string) => async () => {
      const d = await docsOf(idx('config'), id);
      return d.length ? d : undefined;
    };
    const [p] = await eventually('the privileged snapshot', some(priv.id));
    assert.equal(p.docker.config.privileged, true);
    assert.deepEqual(p.docker.config.mounts.map((m: Doc) => [m.source, m.destination, m.rw]), [['/', '/host', true]]);
    const [c] = await eventually('the capabilities snapshot', some(caps.id));
    assert.deepEqual(c.docker.config.cap_add, ['ALL']);
    assert.deepEqual(c.docker.config.cap_drop, ['SYS_RESOURCE']);
    assert.equal(c.docker.config.mounts[0].rw, false);
    assert.equal(c.docker.config.privileged, false);
    assert.equal(c.docker.config.user, 'root (default)');
  });

  it('stats: a CPU-burning container reads as busy, an idle one as idle', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-burn`, cmd: ['sh', '-c', 'while :; do :; done'] });
    const idle = await runContainer(docker, { name: `${ns}-idle`, cmd: ['sleep', '300'] });
    const samples = (cid: string) => async () => {
      const d = (await docsOf(idx('stats', 'metrics'), cid)).filter((x) => x.docker.cpu.pct !== undefined);
      return d.length >= 3 ? d : undefined;
    };
    const docs = await eventually('three stats samples with CPU', samples(id), 40_000);
    const idleDocs = await eventually('three idle stats samples with CPU', samples(idle.id), 40_000);
    const median = (ds: Doc[]) => ds.map((d) => d.docker.cpu.pct as number).sort((a, b) => a - b)[Math.floor(ds.length / 2)];
    const [busy, quiet] = [median(docs), median(idleDocs)];
    // One busy-looping shell wants one CPU (~100 % docker-stats style, ~0.5 normalised on 2 CPUs).
    // How much it gets depends on what else this shared 2-core machine runs, so the bounds are
    // wide: well above an idle container's, never above one CPU and a bit.
    assert.ok(busy > 15 && busy < 115, `median CPU ${busy} % of ${docs.map((d) => d.docker.cpu.pct)}`);
    assert.ok(quiet < 5 && busy > 4 * (quiet + 1), `busy ${busy} % against idle ${quiet} %`);
    const d = docs[docs.length - 1];
    assert.ok(d.container.cpu.usage > 0.05 && d.container.cpu.usage <= 1, `normalised ${d.container.cpu.usage}`);
    assert.ok(d.docker.memory.usage.bytes > 0);
    assert.ok(d.docker.pids >= 1);
    assert.equal(d.data_stream.type, 'metrics');
    await Promise.all([docker.getContainer(id).kill(), docker.getContainer(idle.id).kill()]);
  });

  it('engine events: a dockerd restart during the run loses no event', async () => {
    const index = idx('event');
    execFileSync(join(ROOT, 'scripts', 'dockerd.sh'), ['restart'], { stdio: 'ignore' });
    // Right after the restart, before dockward's event stream has reconnected.
    const c = await retryEngine(() => docker.createContainer({ name: `${ns}-after`, Image: 'dockward/busybox:1', Cmd: ['true'], HostConfig: { NetworkMode: 'none' } }));
    await c.start();
    await c.wait();
    await c.remove();
    const q = { term: { 'container.id': c.id } };
    assert.equal(await waitForCount(es, index, 4, 30_000, q, dw.alive), 4, dw.log.slice(-2000));
    const actions = (await fetchAll<Doc>(es, index, q)).map((d) => d.event.action).sort();
    assert.deepEqual(actions, ['create', 'destroy', 'die', 'start']);
  });
});
