import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { EventAssembler, MAX_OPEN_BYTES, type AssemblerLimits, type AuditExec } from '../../src/collect/audit/assembler';
import { AuditJoin } from '../../src/collect/audit/join';
import {
  AUDIT_FILTER_EXIT, EXEC_ABIS, NLMSG_HDRLEN, decodeRule, encodeRule, messages, parseStatus, request, ruleBytes,
} from '../../src/collect/audit/protocol';
import { parseRecord, untrusted } from '../../src/collect/audit/records';
import { auditBlocker, covers, KEY_PREFIX, stale } from '../../src/collect/audit/rules';
import { auditConfig } from '../../src/collect/audit/source';
import { ARGS_HEAD } from '../../src/enrich/args';
import type { Entry, ProcessFact } from '../../src/collect/kernel/facts';

/** Records captured on a test host (kernel 6.18, x86-64): see the file's serials in each test. */
function fixture(): string[] {
  const rel = join('test', 'fixtures', 'audit', 'execs.txt');
  let path = join(process.cwd(), rel);
  for (let dir = __dirname; dirname(dir) !== dir; dir = dirname(dir)) if (existsSync(join(dir, rel))) path = join(dir, rel);
  return readFileSync(path, 'latin1').split('\n').filter(Boolean);
}

const LIMITS: AssemblerLimits = { maxRecords: 256, maxArgs: 4096, maxArgBytes: 64 * 1024, maxOpen: 4096, timeoutMs: 2000 };

function assemble(lines: string[], limits = LIMITS): { events: AuditExec[]; a: EventAssembler } {
  const events: AuditExec[] = [];
  const a = new EventAssembler(limits, (e) => events.push(e));
  for (const l of lines) {
    const m = /^type=(\d+) (.*)$/s.exec(l)!;
    a.record(Number(m[1]), m[2], 0);
  }
  return { events, a };
}

const bySerial = (events: AuditExec[], serial: number) => events.find((e) => e.serial === serial)!;

describe('audit records: parsing and assembly on real records (no engine)', () => {
  const { events, a } = assemble(fixture());

  it('every event of the capture, closed by its EOE, none lost or half-parsed', () => {
    assert.deepEqual(events.map((e) => e.serial).sort((x, y) => x - y), [19, 20, 26, 27, 28, 29, 31, 304]);
    assert.equal(a.pending, 0);
    assert.equal(a.stats.parseErrors, 0);
    assert.equal(a.stats.failed, 2);
  });

  it('hex-encoded arguments: a space, a newline, UTF-8 bytes (kept byte for byte, like /proc)', () => {
    const e = bySerial(events, 26);
    assert.deepEqual(e.args, ['/bin/echo', 'a b', 'x\ny', Buffer.from('café').toString('latin1')]);
    assert.equal(e.exe, '/bin/busybox');
    assert.equal(e.cwd, '/');
    assert.equal(e.syscall, 'execve');
    assert.equal(e.success, true);
  });

  it('the ids, pid and parent of a short command', () => {
    const e = bySerial(events, 27);
    assert.deepEqual(e.args, ['/bin/id']);
    assert.equal(e.comm, 'id');
    assert.equal(e.uid, 0);
    assert.equal(e.euid, 0);
    assert.equal(e.gid, 0);
    assert.equal(e.ppid, 15630);
    assert.equal(e.pid, 15658);
  });

  it('failed execs: ENOENT and EACCES, without EXECVE records', () => {
    const enoent = bySerial(events, 28);
    const eacces = bySerial(events, 29);
    assert.equal(enoent.success, false);
    assert.equal(enoent.exit, -2);
    assert.equal(enoent.args, undefined);
    assert.equal(eacces.exit, -13);
  });

  it('an argument split over three EXECVE records is put back together, then bounded like /proc args', () => {
    const e = bySerial(events, 31);
    assert.equal(e.args![0], '/bin/echo');
    assert.equal(e.args![e.args!.length - 1], 'end');
    assert.equal(e.args![1], 'a'.repeat(ARGS_HEAD - '/bin/echo '.length));
    assert.match(e.args!.join(' '), /characters of 1 argument not kept, padding\]/);
  });

  it('execveat (fexecve, and runc running its memfd copy)', () => {
    const e = bySerial(events, 304);
    assert.equal(e.syscall, 'execveat');
    assert.deepEqual(e.args, ['true', 'viaexecveat']);
    assert.equal(e.exe, '/usr/bin/true');
    assert.equal(bySerial(events, 20).syscall, 'execveat');
    assert.deepEqual(bySerial(events, 20).args, ['runc', 'init']);
  });

  it('quoted, hex, (null) and broken values', () => {
    assert.equal(untrusted('"/bin/id"'), '/bin/id');
    assert.equal(untrusted('2F62696E'), '/bin');
    assert.equal(untrusted('(null)'), undefined);
    assert.equal(untrusted('2F6'), undefined);
    assert.equal(untrusted('ZZ'), undefined);
    assert.equal(parseRecord(1300, 'no stamp here'), undefined);
    const r = parseRecord(1307, 'audit(1796172120.028:31): cwd="/"')!;
    assert.equal(r.time, 1796172120028);
    assert.equal(r.serial, 31);
  });
});

describe('audit records: bounds, missing and hostile records', () => {
  const lines = fixture();
  const of = (serial: number) => lines.filter((l) => l.includes(`:${serial}): `));

  it('an event whose EOE never comes is closed after the timeout, and counted', () => {
    const events: AuditExec[] = [];
    const a = new EventAssembler(LIMITS, (e) => events.push(e));
    for (const l of of(27).filter((x) => !x.startsWith('type=1320'))) a.record(Number(l.slice(5, 9)), l.slice(10), 100);
    a.expire(1000);
    assert.equal(events.length, 0);
    a.expire(2100);
    assert.deepEqual(events.map((e) => e.args), [['/bin/id']]);
    assert.equal(a.stats.timeouts, 1);
  });

  it('an EOE whose SYSCALL went missing, and text that is not a record, are parse errors', () => {
    const { events, a } = assemble([...of(27).filter((x) => !x.startsWith('type=1300')), 'type=1300 garbage']);
    assert.equal(events.length, 0);
    assert.equal(a.stats.parseErrors, 2);
  });

  it('argument count, argument bytes and records per event are capped and the event marked cut', () => {
    const few = assemble(of(26), { ...LIMITS, maxArgs: 2 });
    assert.deepEqual(few.events[0].args, ['/bin/echo', 'a b']);
    assert.equal(few.events[0].argsCut, true);
    const small = assemble(of(31), { ...LIMITS, maxArgBytes: 9005 });
    assert.equal(small.events[0].argsCut, true);
    assert.equal(small.a.stats.cut, 1);
    const records = assemble(of(31), { ...LIMITS, maxRecords: 4 });
    assert.equal(records.events[0].argsCut, true);
  });

  it('open events are capped: the oldest is closed as it is, and counted', () => {
    const noEoe = [...of(26), ...of(27), ...of(304)].filter((x) => !x.startsWith('type=1320'));
    const { events, a } = assemble(noEoe, { ...LIMITS, maxOpen: 2 });
    assert.equal(a.stats.overflow, 1);
    assert.deepEqual(events.map((e) => e.serial), [26]);
    assert.equal(a.pending, 2);
  });

  it('open events hold 16 MiB of arguments together at most: past it the oldest is closed, and counted', () => {
    const events: AuditExec[] = [];
    const a = new EventAssembler(LIMITS, (e) => events.push(e));
    const syscall = of(27).find((l) => l.startsWith('type=1300'))!.slice(10);
    const chunk = '61'.repeat(3500);
    for (let serial = 1000; serial < 1300; serial++) {
      a.record(1300, syscall.replace(':27)', `:${serial})`), 0);
      for (let k = 0; k < 19; k++) a.record(1309, `audit(1796172120.024:${serial}): ${k === 0 ? 'argc=2 a0="/bin/x" a1_len=133000 ' : ''}a1[${k}]=${chunk}`, 0);
    }
    assert.ok(a.stats.overflow > 0);
    // Each holds 18 chunks of 3,500 bytes (the 19th is past max_arg_bytes): that many fit in the budget.
    assert.ok(a.pending <= Math.floor(MAX_OPEN_BYTES / (18 * 3500)) + 1, `${a.pending} open`);
    assert.equal(events.length + a.pending, 300);
    assert.ok(events.every((e) => e.args!.join(' ').length < 9000), 'bounded like /proc args');
  });

  it('events of other syscalls (another tool\'s rules) are skipped and counted', () => {
    const other = of(27).map((l) => l.replace('syscall=59', 'syscall=2'));
    const { events, a } = assemble(other);
    assert.equal(events.length, 0);
    assert.equal(a.stats.other, 1);
  });
});

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
    assert.equal(c.enabled, 'auto');
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

  function join(entries = new Map<number, Entry>()) {
    const out: ProcessFact[] = [];
    const j = new AuditJoin({ waitMs: 500, maxHeld: 2, wallMs: (ts) => Number(ts) }, (pid) => entries.get(pid), (f) => out.push(f));
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
});
