import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { KernelCoverage } from '../../src/collect/kernel/coverage';
import { OverrunWatch } from '../../src/collect/kernel/overruns';
import { kernelConfig } from '../../src/collect/kernel/collector';
import { processDocId } from '../../src/collect/kernel/documents';
import { decodeWaitStatus, encodeEvent, parseDatagram, subscribeMessage, type ProcEvent } from '../../src/collect/kernel/proc-events';
import { FORK_GRACE_NS, ProcessTable, type ProcessFact } from '../../src/collect/kernel/process-table';
import { containerFromCgroup, parseStatus, startMs, startMsFromKernelTs, type ProcInfo } from '../../src/collect/kernel/procfs';

const ID = 'a'.repeat(64);

describe('kernel process events: parsing and the process table (no engine)', () => {
  it('parses what it encodes, in the kernel layout, several messages per datagram', () => {
    const evs: ProcEvent[] = [
      { what: 'fork', ts: 5n, parentPid: 10, parentTgid: 10, childPid: 11, childTgid: 11 },
      { what: 'exec', ts: 6n, pid: 11, tgid: 11 },
      { what: 'comm', ts: 7n, pid: 11, tgid: 11, comm: 'cat' },
      { what: 'exit', ts: 8n, pid: 11, tgid: 11, status: 3 << 8, parentTgid: 10 },
      { what: 'ack', ts: 0n, err: 0 },
    ];
    const got: ProcEvent[] = [];
    assert.equal(parseDatagram(Buffer.concat(evs.map(encodeEvent)), (e) => got.push(e)), 5);
    assert.deepEqual(got, evs);
    const sub = subscribeMessage(1234);
    assert.equal(sub.length, 40);
    assert.equal(sub.readUInt32LE(12), 1234);
    assert.equal(sub.readUInt32LE(36), 1); // PROC_CN_MCAST_LISTEN
  });

  it('decodes wait statuses', () => {
    assert.deepEqual(decodeWaitStatus(0), { code: 0 });
    assert.deepEqual(decodeWaitStatus(2 << 8), { code: 2 });
    assert.deepEqual(decodeWaitStatus(9), { code: 137, signal: 9 });
  });

  it('names the container from cgroup v1, v2 and systemd paths, and no other', () => {
    assert.equal(containerFromCgroup(`12:pids:/docker/${ID}\n0::/docker/${ID}\n`), ID);
    assert.equal(containerFromCgroup(`0::/system.slice/docker-${ID}.scope\n`), ID);
    assert.equal(containerFromCgroup(`0::/system.slice/docker-${ID}.scope/init.scope\n`), ID);
    assert.equal(containerFromCgroup(`4:memory:/docker/${ID}/nested\n`), ID);
    assert.equal(containerFromCgroup('0::/user.slice/user-0.slice/session-1.scope\n'), null);
    assert.equal(containerFromCgroup('0::/system.slice/docker.service\n'), null);
  });

  it('reads status and stat like the processes collector', () => {
    const info: ProcInfo = {};
    parseStatus('Name:\tsh\nPPid:\t42\nUid:\t1000\t0\t0\t0\nGid:\t5\t5\t5\t5\nNSpid:\t4321\t7\n', info);
    assert.deepEqual(info, { comm: 'sh', ppid: 42, uid: 1000, euid: 0, gid: 5, vpid: 7 });
    const stat = '4321 (a (b) c) S 42 ' + Array.from({ length: 17 }, (_, i) => String(i)).join(' ') + ' 12345 0 0';
    assert.equal(startMs(stat, 1_000_000), 1_000_000 + 123_450);
    assert.equal(startMsFromKernelTs(123_456_789_000n, 1_000_000), 1_000_000 + 123_450);
  });

  it('one id per process for both sources; a later exec of the same pid is a new image', () => {
    assert.equal(processDocId(ID, 5, 1000, 'start'), processDocId(ID, 5, 1000, 'start'));
    assert.notEqual(processDocId(ID, 5, 1000, 'start'), processDocId(ID, 5, 1000, 'end'));
    assert.notEqual(processDocId(ID, 5, 1000, 'start', 99n), processDocId(ID, 5, 1000, 'start'));
  });

  describe('process table', () => {
    const boot = 1_000_000;
    function table(procs: Map<number, ProcInfo>, max = 100) {
      const facts: ProcessFact[] = [];
      const t = new ProcessTable(
        { maxProcesses: max, bootMs: boot, read: (pid) => procs.get(pid) ?? {}, readCgroup: (pid) => (procs.has(pid) ? (procs.get(pid)!.container ?? null) : undefined) },
        (f) => facts.push(f),
      );
      return { t, facts };
    }
    const shell: ProcInfo = { args: ['sh', '-c', 'x'], comm: 'sh', ppid: 1, vpid: 1, uid: 0, euid: 0, gid: 0, start: 5000, container: ID };

    it('fork → exec → exit: start and end with parent, leader, exit code and duration', () => {
      const procs = new Map<number, ProcInfo>([[100, shell], [101, { args: ['/bin/cat', '/etc/shadow'], exe: '/bin/busybox', ppid: 100, vpid: 2, uid: 0, euid: 0, gid: 0, start: 6000, container: ID }]]);
      const { t, facts } = table(procs);
      t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
      t.handle({ what: 'fork', ts: 2_000_000n, parentPid: 100, parentTgid: 100, childPid: 101, childTgid: 101 });
      t.handle({ what: 'fork', ts: 2_000_001n, parentPid: 100, parentTgid: 100, childPid: 150, childTgid: 100 }); // a thread: ignored
      t.handle({ what: 'exec', ts: 3_000_000n, pid: 101, tgid: 101 });
      t.handle({ what: 'exit', ts: 9_000_000n, pid: 101, tgid: 101, status: 1 << 8, parentTgid: 100 });
      assert.deepEqual(facts.map((f) => `${f.type} ${f.pid}`), ['start 100', 'start 101', 'end 101']);
      const [, start, end] = facts;
      assert.equal(start.container, ID);
      assert.deepEqual(start.args, ['/bin/cat', '/etc/shadow']);
      assert.equal(start.parent?.pid, 100);
      assert.deepEqual(start.parent?.args, ['sh', '-c', 'x']);
      assert.equal(start.leader.pid, 100);
      assert.equal(start.vpid, 2);
      assert.deepEqual(end.exit, { code: 1 });
      assert.equal(end.durationNs, 7_000_000);
      assert.equal(t.size, 1, 'the exited child left the table');
    });

    it('an exec that lost the race to /proc is still a start, with its container and parent from the table', () => {
      const { t, facts } = table(new Map([[100, shell]]));
      t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
      t.handle({ what: 'fork', ts: 20_000_000n, parentPid: 100, parentTgid: 100, childPid: 102, childTgid: 102 });
      t.handle({ what: 'exec', ts: 21_000_000n, pid: 102, tgid: 102 });
      t.handle({ what: 'exit', ts: 22_000_000n, pid: 102, tgid: 102, status: 0, parentTgid: 100 });
      const start = facts.find((f) => f.pid === 102 && f.type === 'start')!;
      assert.equal(start.exitRace, true);
      assert.equal(start.container, ID);
      assert.equal(start.parent?.pid, 100);
      assert.equal(start.args, undefined, 'not the parent\'s copy');
      assert.equal(start.start, startMsFromKernelTs(20_000_000n, boot));
      assert.equal(t.stats.exitRace, 1);
    });

    it('host processes are not kept; a busybox applet without exec is seen by its comm', () => {
      const { t, facts } = table(new Map([[100, shell], [200, { args: ['bash'], container: null }]]));
      t.handle({ what: 'exec', ts: 1n, pid: 200, tgid: 200 });
      t.handle({ what: 'fork', ts: 2n, parentPid: 200, parentTgid: 200, childPid: 201, childTgid: 201 });
      assert.equal(facts.length, 0);
      assert.equal(t.size, 0);
      t.handle({ what: 'exec', ts: 3n, pid: 100, tgid: 100 });
      t.handle({ what: 'fork', ts: 4n, parentPid: 100, parentTgid: 100, childPid: 103, childTgid: 103 });
      t.handle({ what: 'comm', ts: 5n, pid: 103, tgid: 103, comm: 'cat' });
      const f = facts.find((x) => x.pid === 103)!;
      assert.equal(f.noexec, true);
      assert.equal(f.name, 'cat');
    });

    it('a fork that never execs is started after the grace, once, with what /proc shows; one whose exec is pending is not', () => {
      const shellExe = { ...shell, exe: '/bin/bash' };
      const worker: ProcInfo = { ...shellExe, args: ['nginx: worker process'], ppid: 100, vpid: 2, start: 7000 };
      const execd: ProcInfo = { ...shellExe, args: ['/bin/cat'], exe: '/bin/cat', ppid: 100, vpid: 3, start: 7010 };
      const { t, facts } = table(new Map([[100, shellExe], [104, worker], [105, execd]]));
      t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
      t.handle({ what: 'fork', ts: 2_000_000_000n, parentPid: 100, parentTgid: 100, childPid: 104, childTgid: 104 });
      t.handle({ what: 'fork', ts: 2_000_000_001n, parentPid: 100, parentTgid: 100, childPid: 105, childTgid: 105 }); // its exec event still to come
      t.startForks(2_000_000_000n + FORK_GRACE_NS - 1n);
      assert.equal(facts.length, 1, 'within the grace: nothing (most forks exec at once)');
      t.startForks(2_000_000_001n + FORK_GRACE_NS);
      t.startForks(2_000_000_001n + 2n * FORK_GRACE_NS);
      const starts = facts.filter((f) => f.pid !== 100);
      assert.deepEqual(starts.map((f) => `${f.type} ${f.pid}`), ['start 104'], 'once; 105 runs another exe: its exec event is on its way');
      assert.equal(starts[0].forkOnly, true);
      assert.deepEqual(starts[0].args, ['nginx: worker process']);
      assert.equal(starts[0].start, 7000, 'exact start from stat: the id polling would use');
      assert.equal(starts[0].ts, 2_000_000_000n, 'its time is the fork');
      assert.equal(starts[0].image, 0);
      t.handle({ what: 'exec', ts: 2_000_000_002n, pid: 105, tgid: 105 });
      t.handle({ what: 'exit', ts: 9_000_000_000n, pid: 104, tgid: 104, status: 15, parentTgid: 100 });
      assert.deepEqual(facts.slice(-2).map((f) => `${f.type} ${f.pid} ${f.forkOnly ?? ''}`), ['start 105 ', 'end 104 ']);
      assert.deepEqual(facts.at(-1)!.exit, { code: 143, signal: 15 });
      assert.equal(t.stats.forkOnly, 1);
    });

    it('a busybox applet whose exec is still in the socket (same exe as its shell) is not started as a fork by a reader behind', () => {
      const sh: ProcInfo = { ...shell, args: ['sh', '-c', 'loop'], exe: '/bin/busybox' };
      const grep: ProcInfo = { ...sh, args: ['/bin/grep', '-c', 'kd1-a', '/bin/busybox'], ppid: 100, vpid: 2, start: 7000 };
      const { t, facts } = table(new Map([[100, sh], [106, grep], [107, { ...sh, ppid: 100, vpid: 3, start: 7100 }]]));
      t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
      t.handle({ what: 'fork', ts: 2_000_000_000n, parentPid: 100, parentTgid: 100, childPid: 106, childTgid: 106 });
      // The clock is past the grace, but nothing read so far is: the reader is behind, not the child.
      t.startForks(2_000_000_000n + 3n * FORK_GRACE_NS, false);
      assert.deepEqual(facts.filter((f) => f.pid === 106), [], 'judged on what was read, not the clock');
      t.handle({ what: 'exec', ts: 2_000_000_100n, pid: 106, tgid: 106 });
      t.startForks(2_000_000_000n + 3n * FORK_GRACE_NS, true);
      const starts = facts.filter((f) => f.pid === 106);
      assert.deepEqual(starts.map((f) => `${f.type} ${f.image} ${f.forkOnly ?? false} ${f.args!.join(' ')}`), ['start 0 false /bin/grep -c kd1-a /bin/busybox'], 'one start, the exec\'s');
      // A fork that really stays unexec'd is still started once events stamped past its grace are read.
      t.handle({ what: 'fork', ts: 5_000_000_000n, parentPid: 100, parentTgid: 100, childPid: 107, childTgid: 107 });
      t.handle({ what: 'exit', ts: 6_000_000_001n, pid: 999, tgid: 999, status: 0, parentTgid: 1 });
      t.startForks(9_000_000_000n, false);
      assert.deepEqual(facts.filter((f) => f.pid === 107).map((f) => f.forkOnly), [true]);
    });

    describe('pid reuse after a lost exit (L6)', () => {
      const A = 'a'.repeat(64);
      const B = 'b'.repeat(64);
      /** The review's l6-pidreuse.js: /proc as a map, the kernel's exit of 500 dropped (ENOBUFS). */
      function reuse(withFork: boolean) {
        const proc = new Map<number, { container: string; args: string[]; ppid: number; vpid: number; start: number }>();
        const facts: ProcessFact[] = [];
        const read = (pid: number): ProcInfo => {
          const p = proc.get(pid);
          return p ? { args: p.args, comm: p.args[0], ppid: p.ppid, vpid: p.vpid, start: p.start } : {};
        };
        const t = new ProcessTable({ maxProcesses: 1000, bootMs: 0, read, readCgroup: (pid) => proc.get(pid)?.container }, (f) => facts.push(f));
        proc.set(400, { container: A, args: ['sh'], ppid: 1, vpid: 1, start: 1 });
        t.handle({ what: 'exec', pid: 400, tgid: 400, ts: 1n });
        proc.set(500, { container: A, args: ['sleep', '1'], ppid: 400, vpid: 7, start: 2 });
        t.handle({ what: 'fork', parentPid: 400, parentTgid: 400, childPid: 500, childTgid: 500, ts: 2n });
        t.handle({ what: 'exec', pid: 500, tgid: 500, ts: 3n });
        // No exit event for 500; the pid comes back in container B (a `docker exec`: runc's child).
        proc.set(500, { container: B, args: ['cat', '/etc/shadow'], ppid: 9999, vpid: 42, start: 9 });
        if (withFork) t.handle({ what: 'fork', parentPid: 9999, parentTgid: 9999, childPid: 500, childTgid: 500, ts: 4n });
        t.handle({ what: 'exec', pid: 500, tgid: 500, ts: 5n });
        return { t, facts, proc };
      }
      const said = (f: ProcessFact) => `"${f.args!.join(' ')}" runs in ${B.slice(0, 4)}…, reported in ${f.container.slice(0, 4)}…`;

      it('the review\'s reproduction: the new process is reported in its own container (before: in the old one)', () => {
        const { t, facts } = reuse(true);
        assert.equal(said(facts.at(-1)!), '"cat /etc/shadow" runs in bbbb…, reported in bbbb…');
        const f = facts.at(-1)!;
        assert.equal(f.leader.pid, 500, 'its own session, not the sh of container A');
        assert.equal(f.leader.container, B);
        assert.equal(f.parent?.pid, 9999);
        // The old process ended unseen: its end goes out (no exit code), once.
        assert.deepEqual(facts.filter((x) => x.type === 'end').map((x) => `${x.pid} ${x.container.slice(0, 4)} ${x.args?.join(' ')} ${x.exit ?? 'no exit'}`), ['500 aaaa sleep 1 no exit']);
        assert.equal(t.stats.reused, 1);
      });

      it('the fork was lost too: the exec re-reads the cgroup (no fork since the last exec)', () => {
        const { facts } = reuse(false);
        assert.equal(said(facts.at(-1)!), '"cat /etc/shadow" runs in bbbb…, reported in bbbb…');
      });

      it('reused in the same container: told by the start time, a new process with its own parent', () => {
        const procs = new Map<number, ProcInfo>([[100, shell], [101, { args: ['sleep', '9'], ppid: 100, vpid: 2, start: 6000, container: ID }]]);
        const { t, facts } = table(procs);
        t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
        t.handle({ what: 'exec', ts: 2n, pid: 101, tgid: 101 });
        procs.set(101, { args: ['id'], ppid: 1, vpid: 3, start: 9000, container: ID }); // exit and fork of 101 lost
        t.handle({ what: 'exec', ts: 3n, pid: 101, tgid: 101 });
        assert.deepEqual(facts.map((f) => `${f.type} ${f.pid} ${f.args?.join(' ')} ${f.start} image ${f.image}`), [
          'start 100 sh -c x 5000 image 0', 'start 101 sleep 9 6000 image 0', 'end 101 sleep 9 6000 image 0', 'start 101 id 9000 image 0',
        ]);
        assert.equal(facts.at(-1)!.parent?.pid, 1);
      });

      it('a process that execs again (sh -c \'exec cat\') stays one process: a new image, no end', () => {
        const procs = new Map<number, ProcInfo>([[100, shell]]);
        const { t, facts } = table(procs);
        t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
        procs.set(100, { ...shell, args: ['cat'] });
        t.handle({ what: 'exec', ts: 2n, pid: 100, tgid: 100 });
        assert.deepEqual(facts.map((f) => `${f.type} ${f.pid} ${f.args?.join(' ')} image ${f.image}`), ['start 100 sh -c x image 0', 'start 100 cat image 1']);
        assert.equal(t.stats.reused, 0);
      });

      it('a stale entry whose pid a host process took (runc) and forks from: the fork ends it, the child is read like any new pid', () => {
        const stale: ProcInfo = { args: ['sleep', '1'], ppid: 100, vpid: 2, start: 6000, container: ID };
        const procs = new Map<number, ProcInfo>([[100, shell], [500, stale]]);
        const { t, facts } = table(procs);
        t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
        t.handle({ what: 'exec', ts: 2n, pid: 500, tgid: 500 });
        // 500's exit lost; a host process (runc, forked by the host's 1) takes the pid, its child execs in B.
        procs.set(500, { args: ['runc'], ppid: 1, start: 8000, container: null });
        procs.set(600, { args: ['cat', '/etc/shadow'], ppid: 500, vpid: 42, start: 8010, container: B });
        t.handle({ what: 'fork', ts: 3n, parentPid: 1, parentTgid: 1, childPid: 500, childTgid: 500 });
        t.handle({ what: 'fork', ts: 4n, parentPid: 500, parentTgid: 500, childPid: 600, childTgid: 600 });
        t.handle({ what: 'exec', ts: 5n, pid: 600, tgid: 600 });
        assert.deepEqual(facts.slice(-2).map((f) => `${f.type} ${f.pid} ${f.container.slice(0, 4)} leader ${f.leader.pid}`), ['end 500 aaaa leader 100', 'start 600 bbbb leader 600']);
        assert.equal(t.get(500), undefined, 'runc is not kept');
      });

      it('a process a /proc scan found before its fork event came is kept, not ended', () => {
        const [sh, me] = [process.ppid, process.pid]; // pids the real /proc lists: the scan reads it
        const procs = new Map<number, ProcInfo>([[sh, shell], [me, { args: ['sleep', '5'], ppid: sh, vpid: 3, start: 7000, container: ID }]]);
        const { t, facts } = table(procs);
        t.handle({ what: 'exec', ts: 1n, pid: sh, tgid: sh });
        t.scan('resync');
        t.handle({ what: 'fork', ts: 2n, parentPid: sh, parentTgid: sh, childPid: me, childTgid: me });
        t.handle({ what: 'exit', ts: 3n, pid: me, tgid: me, status: 0, parentTgid: sh });
        assert.deepEqual(facts.map((f) => `${f.type} ${f.pid === me ? 'child' : 'sh'} ${f.scan ?? ''}`), ['start sh ', 'start child resync', 'end child ']);
        assert.equal(t.stats.reused, 0);
      });

      it('resync ends an entry whose pid is alive but another process now, and adds the new one', () => {
        const me = process.pid; // a pid /proc lists for sure: the scan reads the real /proc list
        const procs = new Map<number, ProcInfo>([[me, { ...shell, start: 5000 }]]);
        const { t, facts } = table(procs);
        t.handle({ what: 'exec', ts: 1n, pid: me, tgid: me });
        assert.deepEqual(t.scan('resync'), { added: 0, ended: 0 }, 'the same process: kept');
        procs.set(me, { args: ['nc', '-l'], comm: 'nc', ppid: 1, vpid: 1, start: 7000, container: B });
        assert.deepEqual(t.scan('resync'), { added: 1, ended: 1 });
        assert.deepEqual(facts.map((f) => `${f.type} ${f.container.slice(0, 4)} ${f.args?.join(' ')} ${f.scan ?? ''}`), [
          'start aaaa sh -c x ', 'end aaaa sh -c x ', 'start bbbb nc -l resync',
        ]);
      });
    });

    it('stays bounded: the oldest entry goes first (not a session leader), counted', () => {
      const { t } = table(new Map([[100, shell]]), 256);
      t.handle({ what: 'exec', ts: 1n, pid: 100, tgid: 100 });
      for (let i = 0; i < 1000; i++) t.handle({ what: 'fork', ts: BigInt(i + 2), parentPid: 100, parentTgid: 100, childPid: 1000 + i, childTgid: 1000 + i });
      assert.equal(t.size, 256);
      assert.equal(t.stats.evicted, 1000 + 1 - 256);
      assert.ok(t.get(100), 'the shell, a session leader, stays');
      assert.ok(t.get(1999) && !t.get(1000), 'the newest children stay, the oldest went');
    });
  });

  it('coverage: polling leaves to the kernel what started after the subscription, while it is healthy', () => {
    const c = new KernelCoverage();
    assert.equal(c.owns(2_000, true), false, 'not subscribed: polling writes everything');
    c.subscribed(1_000);
    assert.equal(c.owns(990, true), false, 'started before: polling still writes it');
    assert.equal(c.owns(1_000, true), false, 'the subscription\'s own tick: both (same id)');
    assert.equal(c.owns(1_010, true), true);
    assert.equal(c.owns(500, false), true, 'no exact start (gone before /proc was read): the kernel has it');
    c.setHealthy(false);
    assert.equal(c.owns(1_010, true), false, 'overrun, resync pending: polling steps in');
    c.setHealthy(true);
    assert.equal(c.owns(1_010, true), true);
    c.stopped();
    assert.equal(c.owns(1_010, true), false);
  });

  it('repeated kernel overruns: three within a minute are one tamper report, then at most one a minute', () => {
    let now = 0;
    const reports: string[] = [];
    const w = new OverrunWatch((n, ms) => reports.push(`${n}/${ms}`), 3, 60_000, () => now);
    w.overrun();
    now += 30_000;
    w.overrun();
    assert.equal(reports.length, 0, 'two: a busy host');
    now += 1000;
    w.overrun();
    assert.deepEqual(reports, ['3/60000']);
    for (let i = 0; i < 50; i++) {
      now += 1000;
      w.overrun();
    }
    assert.equal(reports.length, 1, 'the same minute');
    now += 10_000;
    w.overrun();
    assert.equal(reports.length, 2);
    now += 10 * 60_000;
    w.overrun();
    assert.equal(reports.length, 2, 'one alone after a quiet spell');
  });

  it('collectors.kernel.enabled: auto by default, true and false kept', () => {
    assert.equal(kernelConfig.parse(undefined).enabled, 'auto');
    assert.equal(kernelConfig.parse({ enabled: true }).enabled, true);
    assert.equal(kernelConfig.parse({ enabled: false }).enabled, false);
    assert.throws(() => kernelConfig.parse({ enabled: 'yes' }));
  });
});
