import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { EventAssembler, MAX_OPEN_BYTES, type AssemblerLimits, type AuditExec } from '../../src/collect/audit/assembler';
import { parseRecord, untrusted } from '../../src/collect/audit/records';
import { ARGS_HEAD } from '../../src/enrich/args';

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
