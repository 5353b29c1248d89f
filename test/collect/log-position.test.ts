import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { LogPosition } from '../../src/collect/log-position';
import type { LogLine, StreamName } from '../../src/docker/log-decoder';

const line = (stream: StreamName, sec: number, nanos: number, message: string): LogLine => ({
  stream, time: `${sec}.${nanos}`, sec, nanos, message, bytes: message.length, truncated: false, joined: false,
});

/** What the logs collector's emitter does to the marks: number equal timestamps per stream. */
function emit(p: LogPosition, l: LogLine, out: string[]): void {
  if (!p.isNew(l)) return;
  const m = p.last[l.stream];
  if (m.sec === l.sec && m.nanos === l.nanos) m.ord++;
  else Object.assign(m, { sec: l.sec, nanos: l.nanos, ord: 0 });
  p.emitted++;
  out.push(l.message);
}

describe('LogPosition: a second request from the engine re-reads no emitted line and misses none', () => {
  it('skips older lines and exactly the emitted lines of the last timestamp (the engine has no ordinal)', () => {
    const log = [line('stdout', 10, 1, 'a'), line('stdout', 10, 5, 'b1'), line('stdout', 10, 5, 'b2'), line('stdout', 10, 5, 'b3'), line('stdout', 11, 0, 'c')];
    const p = new LogPosition();
    const out: string[] = [];
    p.resume();
    // The first request stopped after b2 (the follow stream ended at container exit).
    for (const l of log.slice(0, 3)) emit(p, l, out);
    assert.equal(p.since(), '10.000000005');
    // The engine's `since` is inclusive: the second request starts at b1.
    p.resume();
    for (const l of log.filter((x) => x.sec > 10 || (x.sec === 10 && x.nanos >= 5))) emit(p, l, out);
    assert.deepEqual(out, ['a', 'b1', 'b2', 'b3', 'c']);
    assert.equal(p.emitted, 5);
    // A third request that brings nothing new emits nothing: the container is drained.
    p.resume();
    for (const l of log.slice(3)) emit(p, l, out);
    assert.equal(p.emitted, 5);
  });

  it('streams keep their own marks; since is the older, at most 5 s before the newer', () => {
    const p = new LogPosition();
    const out: string[] = [];
    p.resume();
    emit(p, line('stderr', 100, 0, 'e1'), out);
    emit(p, line('stdout', 103, 0, 'o1'), out);
    assert.equal(p.since(), '100.000000000');
    emit(p, line('stdout', 200, 7, 'o2'), out);
    assert.equal(p.since(), '195.000000007', 'a quiet stderr does not pull every request back to its last line');
    p.resume();
    emit(p, line('stdout', 200, 7, 'o2'), out);
    emit(p, line('stderr', 196, 0, 'e2'), out);
    emit(p, line('stdout', 201, 0, 'o3'), out);
    assert.deepEqual(out, ['e1', 'o1', 'o2', 'e2', 'o3']);
  });

  it('before any line there is no resume point and every line is new', () => {
    const p = new LogPosition();
    p.resume();
    assert.equal(p.since(), undefined);
    assert.equal(p.isNew(line('stdout', 0, 0, 'x')), true);
  });
});
