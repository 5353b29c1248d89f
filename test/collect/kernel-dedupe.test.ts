import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { adminClient, engines, LAB, newNamespace } from '../support/engines';
import { removeContainers, runContainer } from '../support/containers';
import { DockwardProcess } from '../support/dockward';
import { fetchAll } from '../support/elasticsearch';

type Doc = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any

const CHILDREN = 400; // loop turns; two children each

/**
 * Both process sources at once (kernel on by default, `top` polled every second): a shell forking
 * hundreds of short children must leave exactly one start document per process, each with the
 * child's own command line. Before the fix a poll that caught a child between fork and exec wrote
 * the shell's command line under the child's id, and the kernel's document became a 409.
 */
describe('one start document per process with kernel events and polling both on (real dockerd, real kernel)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('kdedup');
  const index = `logs-dockward.process-${ns}`;
  let dw: DockwardProcess;

  before(async () => {
    // No collectors.kernel flag: the default (auto) must turn it on here (tests run as root).
    dw = DockwardProcess.run({ namespace: ns, sets: ['collectors.processes.schedule=* * * * * *', 'collectors.processes.stagger=100ms', 'detect.enabled=false'] });
    await dw.waitFor(/dockward running/);
    await dw.waitFor(/kernel process events: subscribed/);
  });

  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it(`${CHILDREN * 2} forked children: one start each, the child's own command line, whatever saw it`, async () => {
    const loop = `i=0; while [ $i -lt ${CHILDREN} ]; do i=$((i+1)); /bin/grep -c kd$i-a /bin/busybox >/dev/null; /bin/wc -c /bin/busybox kd$i-b >/dev/null 2>&1; done`;
    const script = `sleep 1; ${loop}; sleep 300`;
    const { id } = await runContainer(docker, { name: `${ns}-forker`, cmd: ['sh', '-c', script] });
    const isChild = (d: Doc) => !d.process.command_line?.startsWith('sh -c') && !/^sleep /.test(d.process.command_line ?? '');
    let docs: Doc[] = [];
    const end = Date.now() + 180_000;
    for (let last = -1; ; ) {
      docs = await fetchAll<Doc>(es, index, { term: { 'container.id': id } }).catch(() => []);
      const ends = docs.filter((d) => isChild(d) && d.event.type[0] === 'end').length;
      if (ends >= CHILDREN * 2 && ends === last) break;
      assert.ok(Date.now() < end, `${ends} child ends after 180 s; dockward's log:\n${dw.log.slice(-3000)}`);
      last = ends;
      await new Promise((r) => setTimeout(r, 2000));
    }
    const starts = docs.filter((d) => d.event.type[0] === 'start');
    const shells = starts.filter((d) => d.process.command_line?.startsWith('sh -c sleep 1;'));
    assert.equal(shells.length, 1, 'one start for the shell');
    const shell = shells[0];
    const children = starts.filter(isChild);
    const m = await dw.metrics();
    const left = m['dockward_processes_left_to_kernel_total{type=start}'] ?? 0;
    const raced = children.filter((d) => d.dockward.process.exit_race).length;
    console.log(`figures: ${children.length} child start documents (${raced} lost to the exit race), polling left ${left} starts and ${m['dockward_processes_left_to_kernel_total{type=end}'] ?? 0} ends to the kernel; overruns ${m.dockward_kernel_overruns_total ?? 0}`);

    assert.ok(left > 0, 'polling ran and saw processes of this container (and left them to the kernel)');
    assert.equal(m.dockward_kernel_overruns_total ?? 0, 0, 'the kernel dropped nothing (else polling would rightly have stepped in)');
    // The fault this guards against: a child's pid under the parent's command line.
    const wrong = starts.filter((d) => d.process.pid !== shell.process.pid && d.process.command_line === shell.process.command_line);
    assert.deepEqual(wrong.map((d) => d.process.pid), [], 'no child carries the shell\'s command line');
    for (const d of starts) assert.equal(d.event.provider, 'kernel', `${d.process.command_line}: the kernel's (the container started after the subscription)`);
    // One start per process: pid and start time identify it (a re-exec would add an image number).
    const perProcess = new Map<string, number>();
    for (const d of starts) perProcess.set(`${d.process.pid}@${d.process.start}#${d.dockward.process.image ?? 0}`, (perProcess.get(`${d.process.pid}@${d.process.start}#${d.dockward.process.image ?? 0}`) ?? 0) + 1);
    assert.deepEqual([...perProcess].filter(([, n]) => n > 1), []);
    const odd = children.filter((d) => d.dockward.process.fork_only || d.dockward.process.noexec || d.dockward.process.image);
    assert.equal(children.length, CHILDREN * 2, `every child has its start, once; not from an exec: ${JSON.stringify(odd.slice(0, 5).map((d) => ({ pid: d.process.pid, cmd: d.process.command_line, fork_only: d.dockward.process.fork_only, image: d.dockward.process.image })))}`);
    // And each marker (kd<i>-a / kd<i>-b) once, in the child's own command line.
    const seen = new Map<string, number>();
    for (const d of children) {
      assert.equal(d.process.parent.pid, shell.process.pid, 'the shell is the parent');
      if (d.dockward.process.exit_race) continue;
      const marker = (d.process.args as string[]).find((a) => /^kd\d+-[ab]$/.test(a));
      assert.ok(marker, `a child's own command line: ${d.process.command_line}`);
      const i = marker.slice(2, -2);
      assert.equal(d.process.command_line, marker.endsWith('a') ? `/bin/grep -c kd${i}-a /bin/busybox` : `/bin/wc -c /bin/busybox kd${i}-b`);
      seen.set(marker, (seen.get(marker) ?? 0) + 1);
    }
    assert.deepEqual([...seen].filter(([, n]) => n > 1), [], 'no command twice');
    assert.equal(seen.size, CHILDREN * 2 - raced);
  });

  // A fork that never execs (a bash subshell here; nginx or postgres workers alike) gives the
  // kernel no exec to document, while polling leaves it to the kernel (it started after the
  // subscription): without the kernel's own start for it, nobody wrote one.
  it('a forked child that never execs: one start (the kernel\'s, after it stayed unexec\'d) and one end', async () => {
    const script = 'sleep 1; ( while :; do sleep 0.3; done ) & s=$!; sleep 5; kill $s; sleep 300';
    const { id } = await runContainer(docker, { name: `${ns}-subshell`, image: LAB, cmd: ['bash', '-c', script] });
    const shellCmd = `bash -c ${script}`;
    let docs: Doc[] = [];
    let sub: number | undefined;
    const end = Date.now() + 60_000;
    for (;;) {
      docs = await fetchAll<Doc>(es, index, { term: { 'container.id': id } }).catch(() => []);
      // The subshell is the parent of the loop's sleeps; it is done once its end is in.
      sub = docs.find((d) => d.process.command_line === 'sleep 0.3')?.process.parent.pid;
      if (sub !== undefined && docs.some((d) => d.process.pid === sub && d.event.type[0] === 'end')) break;
      assert.ok(Date.now() < end, `no end of the subshell (pid ${sub}) after 60 s; dockward's log:\n${dw.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    await new Promise((r) => setTimeout(r, 2000)); // a late duplicate would have arrived by now
    docs = await fetchAll<Doc>(es, index, { term: { 'container.id': id } });
    const shell = docs.find((d) => d.event.type[0] === 'start' && d.process.command_line === shellCmd && d.process.pid !== sub)!;
    const of = (type: string) => docs.filter((d) => d.process.pid === sub && d.event.type[0] === type);
    console.log(`figures: subshell ${of('start').length} start / ${of('end').length} end documents; ${docs.filter((d) => d.process.command_line === 'sleep 0.3' && d.event.type[0] === 'start').length} sleeps`);
    assert.equal(of('start').length, 1, 'one start for the subshell');
    const [s] = of('start');
    assert.equal(s.event.provider, 'kernel');
    assert.equal(s.dockward.process.fork_only, true);
    assert.equal(s.process.command_line, shellCmd, 'a fork runs its parent\'s image: the same command line, as ps shows it');
    assert.equal(s.process.parent.pid, shell.process.pid);
    assert.equal(of('end').length, 1, 'one end');
    assert.equal(of('end')[0].process.exit_code, 143, 'killed by SIGTERM');
  });
});

describe('with kernel events off, top polling writes every process itself (real dockerd)', () => {
  const { docker } = engines();
  const es = adminClient();
  const ns = newNamespace('kdoff');
  let dw: DockwardProcess;

  before(async () => {
    dw = DockwardProcess.run({ namespace: ns, sets: ['collectors.kernel.enabled=false', 'collectors.processes.schedule=* * * * * *', 'collectors.processes.stagger=100ms', 'detect.enabled=false'] });
    await dw.waitFor(/dockward running/);
  });

  after(async () => {
    await dw.kill();
    await removeContainers(docker, ns);
    await es.close();
  });

  it('a child that lives 3 s: its start and end from polling, the first snapshot marked', async () => {
    const { id } = await runContainer(docker, { name: `${ns}-tree`, cmd: ['sh', '-c', 'sleep 2; sleep 300 & c=$!; sleep 3; kill $c; sleep 300'] });
    const end = Date.now() + 60_000;
    let docs: Doc[] = [];
    while (!docs.some((d) => d.event.type[0] === 'end' && d.process.command_line === 'sleep 300')) {
      assert.ok(Date.now() < end, `no end of the child; dockward's log:\n${dw.log.slice(-3000)}`);
      await new Promise((r) => setTimeout(r, 1000));
      docs = await fetchAll<Doc>(es, `logs-dockward.process-${ns}`, { term: { 'container.id': id } }).catch(() => []);
    }
    assert.equal((await dw.metrics()).dockward_kernel_available ?? 0, 0, 'the kernel collector did not run');
    for (const d of docs) assert.equal(d.event.provider, 'poll');
    const shell = docs.find((d) => d.event.type[0] === 'start' && d.process.command_line.startsWith('sh -c'));
    assert.equal(shell?.dockward.process.first_snapshot, true);
    const child = docs.filter((d) => d.event.type[0] === 'start' && d.process.command_line === 'sleep 300' && d.process.parent.pid === shell.process.pid);
    assert.equal(child.length, 1, 'one start for the child');
  });
});
