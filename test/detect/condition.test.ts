import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileCondition, ConditionError, MAX_MATCH, type Condition } from '../../src/detect/condition';

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
    const late = m({ field: 'msg', contains: 'needle' });
    assert.ok(!late({ msg: 'x'.repeat(MAX_MATCH) + 'needle' }), 'matching stops at MAX_MATCH');
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
