import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import type { AuditExec } from '../../src/collect/audit/assembler';
import { AuditJoin } from '../../src/collect/audit/join';
import {
  AUDIT_FILTER_EXIT, EXEC_ABIS, NLMSG_HDRLEN, decodeRule, encodeRule, messages, parseStatus, request, ruleBytes,
} from '../../src/collect/audit/protocol';
import { auditBlocker, covers, KEY_PREFIX, stale } from '../../src/collect/audit/rules';
import { running } from '../../src/collect/kernel/procfs';
import { auditConfig } from '../../src/collect/audit/source';
import type { Entry, ProcessFact } from '../../src/collect/kernel/facts';
import { until } from '../support/full-disk';

describe('audit netlink protocol and rules (no socket)', () => {
  it('a rule encodes as auditctl -a always,exit -F arch=b64 -S execve,execveat -k … and decodes back', () => {
    for (const abi of EXEC_ABIS) {
      const b = encodeRule({ arch: abi.arch, syscalls: abi.syscalls, key: `${KEY_PREFIX}42` });
      const r = decodeRule(b)!;
      assert.deepEqual(r, { syscalls: abi.syscalls, otherFields: 0, action: 2, list: AUDIT_FILTER_EXIT, arch: abi.arch, key: 'dockward:42' });
      assert.equal(covers(r, abi), true);
      assert.equal(ruleBytes(Buffer.concat([b, Buffer.alloc(8)])).length, b.length);
    }
    const narrower = { ...decodeRule(encodeRule({ arch: EXEC_ABIS[0].arch, syscalls: EXEC_ABIS[0].syscalls, key: 'x' }))!, otherFields: 1 };
    assert.equal(covers(narrower, EXEC_ABIS[0]), false);
  });

  it('stale rules are those of a dockward pid that is gone; auditd\'s and ours are not', () => {
    const rule = (key?: string) => ({ syscalls: [59], otherFields: 0, action: 2, list: 4, key });
    assert.equal(stale(rule('dockward:999999'), () => false), true);
    assert.equal(stale(rule('dockward:999999'), () => true), false);
    assert.equal(stale(rule(`dockward:${process.pid}`), () => false), false);
    assert.equal(stale(rule('exec'), () => false), false);
    assert.equal(stale(rule(undefined), () => false), false);
  });

  it('a zombie is not running: its rules are stale (a SIGKILLed reader not yet reaped)', async () => {
    // `sleep 30` inherits the exited `true` as its child and never reaps it
    const parent = spawn('sh', ['-c', 'true & exec sleep 30'], { stdio: 'ignore' });
    try {
      let zombie = 0;
      await until('the zombie child of sleep', () => {
        const kids = readFileSync(`/proc/${parent.pid}/task/${parent.pid}/children`, 'latin1').trim().split(' ').filter(Boolean).map(Number);
        zombie = kids.find((k) => readFileSync(`/proc/${k}/stat`, 'latin1').includes(') Z ')) ?? 0;
        return zombie > 0;
      });
      assert.equal(running(zombie), false);
      assert.equal(running(parent.pid!), true);
      assert.equal(running(process.pid), true);
      assert.equal(stale({ syscalls: [59], otherFields: 0, action: 2, list: 4, key: `dockward:${zombie}` }), true);
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it('requests carry type, flags, seq and port; replies with a kernel-style wrong length still parse', () => {
    const q = request(1000, 7, 1234);
    assert.equal(q.readUInt32LE(0), NLMSG_HDRLEN);
    assert.equal(q.readUInt16LE(4), 1000);
    assert.equal(q.readUInt16LE(6), 5);
    assert.equal(q.readUInt32LE(8), 7);
    assert.equal(q.readUInt32LE(12), 1234);
    const text = Buffer.from('audit(1.000:1): cwd="/"');
    const rec = Buffer.alloc(NLMSG_HDRLEN + text.length);
    rec.writeUInt32LE(text.length, 0); // without the header, as the kernel sometimes writes it
    rec.writeUInt16LE(1307, 4);
    text.copy(rec, NLMSG_HDRLEN);
    const [m] = messages(rec);
    assert.equal(m.type, 1307);
    assert.equal(m.payload.toString(), text.toString());
    const st = Buffer.alloc(40);
    [0, 1, 1, 321, 0, 64, 5, 2].forEach((v, i) => st.writeUInt32LE(v, 4 * i));
    assert.deepEqual(parseStatus(st), { enabled: 1, failure: 1, pid: 321, rateLimit: 0, backlogLimit: 64, lost: 5, backlog: 2 });
  });

  it('capabilities: CAP_AUDIT_CONTROL and CAP_AUDIT_READ are both needed', () => {
    assert.equal(auditBlocker('CapEff:\t000001ffffffffff\n'), undefined);
    assert.equal(auditBlocker('CapEff:\t00000000a80425fb\n'), 'no CAP_AUDIT_CONTROL and CAP_AUDIT_READ');
    assert.equal(auditBlocker('CapEff:\t0000000040000000\n'), 'no CAP_AUDIT_READ');
  });

  it('config defaults', () => {
    const c = auditConfig.parse(undefined);
    assert.equal(c.enabled, 'auto', 'on where permitted: M2 with audit on stays within its memory bound (docs/audit.md)');
    assert.equal(c.join_wait, 3000);
    assert.equal(c.max_arg_bytes, 64 * 1024);
  });
});

describe('audit join: proc connector starts × audit events (no engine)', () => {
  const start = (pid: number, over: Partial<ProcessFact> = {}): ProcessFact => ({
    type: 'start', container: 'c', pid, start: 1000, startExact: false, image: 0, ts: 5n, exitRace: true,
    leader: { pid: 1, container: 'c' }, ...over,
  });
  const ev = (pid: number, over: Partial<AuditExec> = {}): AuditExec => ({
    serial: 1, time: 0, syscall: 'execve', success: true, pid, comm: 'id', exe: '/bin/busybox', cwd: '/tmp', args: ['/bin/id', '-u'], uid: 1000, euid: 0, gid: 1000, ...over,
  });

  function join(entries = new Map<number, Entry>(), maxBytes = 1 << 30) {
    const out: ProcessFact[] = [];
    const j = new AuditJoin({ waitMs: 500, maxHeld: 2, maxBytes, wallMs: (ts) => Number(ts) }, (pid) => entries.get(pid), (f) => out.push(f));
    return { j, out };
  }

  it('start first, event after: the start (and its end, waiting behind it) carry what audit saw', () => {
    const entry = { pid: 10, ppid: 1, container: 'c', start: 1000, startExact: false, execs: 1, started: true, leader: { pid: 1, container: 'c' } } as Entry;
    const { j, out } = join(new Map([[10, entry]]));
    j.fact(start(10), 0);
    j.fact({ ...start(10), type: 'end' }, 1);
    assert.equal(out.length, 0);
    j.audit(ev(10), 2);
    assert.deepEqual(out.map((f) => [f.type, f.source, f.args, f.executable, f.cwd, f.uid, f.euid, f.exitRace, f.name]), [
      ['start', 'audit', ['/bin/id', '-u'], '/bin/busybox', '/tmp', 1000, 0, undefined, 'id'],
      ['end', 'audit', ['/bin/id', '-u'], '/bin/busybox', '/tmp', 1000, 0, undefined, 'id'],
    ]);
    assert.deepEqual(entry.args, ['/bin/id', '-u']);
    assert.equal(j.stats.joined, 1);
  });

  it('a pid that execs twice before audit is read (bash -c "exec -a nginx nc"): each start takes its own event', () => {
    // attack suite at b734dc5: nc's start went out as "exited before /proc was read", no command line
    const { j, out } = join();
    j.fact(start(16, { ts: 10_000n }), 0);
    j.fact(start(16, { ts: 10_002n, image: 1 }), 1);
    j.fact({ ...start(16, { ts: 10_003n, image: 1 }), type: 'end' }, 2);
    j.audit(ev(16, { exe: '/usr/bin/bash', comm: 'bash', args: ['bash', '-c', 'exec -a nginx nc -z 127.0.0.1 4450'], time: 10_000 }), 3);
    assert.deepEqual(out.map((f) => [f.type, f.args?.[0]]), [['start', 'bash']], 'the second start waits for its own event');
    j.audit(ev(16, { exe: '/usr/bin/nc.openbsd', comm: 'nc', args: ['nginx', '-z', '127.0.0.1', '4450'], time: 10_002 }), 4);
    assert.deepEqual(out.map((f) => [f.type, f.source, f.args?.[0], f.name, f.argv0]), [
      ['start', 'audit', 'bash', 'bash', undefined],
      ['start', 'audit', 'nginx', 'nc', 'masquerade'],
      ['end', 'audit', 'nginx', 'nc', 'masquerade'],
    ]);
    assert.equal(j.waiting, 0);
    // and when the first start's event never comes, the second still waits for its own
    const k = join();
    k.j.fact(start(17, { ts: 10_000n }), 0);
    k.j.fact(start(17, { ts: 10_002n, image: 1 }), 1);
    k.j.expire(600);
    assert.deepEqual(k.out.map((f) => f.source), ['proc']);
    k.j.audit(ev(17, { exe: '/usr/bin/nc.openbsd', comm: 'nc', args: ['nc', '-z'], time: 10_002 }), 601);
    assert.deepEqual(k.out.map((f) => [f.source, f.args?.[0]]), [['proc', undefined], ['audit', 'nc']]);
  });

  it('event first, start after; a failed exec pairs with nothing', () => {
    const { j, out } = join();
    j.audit(ev(11, { success: false, args: undefined }), 0);
    j.audit(ev(11), 0);
    j.fact(start(11), 1);
    assert.equal(out[0].source, 'audit');
    assert.deepEqual(out[0].args, ['/bin/id', '-u']);
  });

  it('no event within the wait: /proc stands; an event nobody claims is counted unmatched', () => {
    const { j, out } = join();
    j.fact(start(12, { args: ['/bin/cat'], exitRace: undefined }), 0);
    j.audit(ev(99), 0);
    j.expire(499);
    assert.equal(out.length, 0);
    j.expire(501);
    assert.deepEqual(out.map((f) => [f.source, f.args]), [['proc', ['/bin/cat']]]);
    assert.equal(j.stats.procOnly, 1);
    assert.equal(j.stats.unmatched, 1);
  });

  it('an earlier exec of the pid that the table did not document (runc init) is not taken for the next', () => {
    const { j, out } = join();
    j.audit(ev(14, { exe: '/usr/sbin/runc', args: ['runc', 'init'], time: 9_000 }), 0);
    j.fact(start(14, { ts: 10_000n, executable: '/bin/busybox', args: ['sh', '-c', 'x'], exitRace: undefined }), 1);
    assert.equal(out.length, 0, 'waits for its own event');
    j.audit(ev(14, { exe: '/usr/sbin/runc', args: ['runc', 'init'], time: 9_001 }), 2);
    j.audit(ev(14, { args: ['sh', '-c', 'x'], time: 10_000 }), 3);
    assert.deepEqual(out.map((f) => [f.source, f.args]), [['audit', ['sh', '-c', 'x']]]);
    // Without /proc's executable (the exit race), the time tells.
    j.audit(ev(15, { args: ['runc', 'init'], time: 9_000 }), 4);
    j.audit(ev(15, { args: ['/bin/id'], time: 9_990 }), 4);
    j.fact(start(15, { ts: 10_000n }), 5);
    assert.deepEqual(out[1].args, ['/bin/id']);
    assert.equal(j.stats.unmatched, 3);
  });

  it('a start waits less once the audit stream has passed its exec without it', () => {
    const { j, out } = join();
    j.fact(start(13, { ts: 10_000n }), 0);
    j.audit(ev(98, { time: 10_100 }), 1);
    j.expire(2);
    assert.equal(out.length, 0);
    j.audit(ev(97, { time: 10_300 }), 3);
    j.expire(4);
    assert.deepEqual(out.map((f) => [f.pid, f.source]), [[13, 'proc']]);
  });

  it('bounded: past maxHeld a start goes out at once (counted); non-exec facts never wait', () => {
    const { j, out } = join();
    j.fact(start(1), 0);
    j.fact(start(2), 0);
    j.fact(start(3), 0);
    j.fact(start(4, { forkOnly: true }), 0);
    assert.deepEqual(out.map((f) => f.pid), [3, 4]);
    assert.equal(j.stats.heldOverflow, 1);
  });

  it('bounded in argument bytes: long command lines waiting for their partner give way, oldest first, and are counted', () => {
    const long = (c: string) => ['/bin/sh', '-c', c.repeat(15_000)];
    // Early events no start claimed yet: the third does not fit beside two, the oldest goes.
    const a = join(undefined, 40_000);
    a.j.audit(ev(21, { args: long('a') }), 0);
    a.j.audit(ev(22, { args: long('b') }), 0);
    a.j.audit(ev(23, { args: long('c') }), 0);
    assert.equal(a.j.stats.unmatched, 1);
    a.j.fact(start(23), 1);
    assert.deepEqual(a.out.map((f) => [f.pid, f.source, f.args]), [[23, 'audit', long('c')]], 'the newest event is still there to join');
    a.j.fact(start(21), 1);
    a.j.expire(501);
    assert.deepEqual(a.out.slice(1).map((f) => [f.pid, f.source]), [[21, 'proc']], 'event 21 was given up on: /proc stands');
    assert.equal(a.j.stats.unmatched, 2, 'and event 22 expired unclaimed');
    // A start whose command line does not fit beside the held ones goes out at once, counted.
    const b = join(undefined, 40_000);
    b.j.fact(start(30, { args: long('x') }), 0);
    b.j.fact(start(31, { args: long('y').concat(long('z')) }), 0);
    assert.deepEqual(b.out.map((f) => [f.pid, f.source]), [[31, 'proc']]);
    assert.equal(b.j.stats.heldOverflow, 1);
    b.j.audit(ev(30, { args: long('x') }), 1);
    assert.deepEqual(b.out.slice(1).map((f) => [f.pid, f.source]), [[30, 'audit']]);
    assert.equal(b.j.waiting, 0);
  });
});
