import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ExecFlood } from '../../src/collect/kernel/flood';
import { processDocument } from '../../src/collect/kernel/documents';
import type { ProcessFact } from '../../src/collect/kernel/facts';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const leader = (container: string) => ({ pid: 100, vpid: 1, container });

function start(container: string, pid: number, args: string[], ts = BigInt(pid) * 1000n): ProcessFact {
  return { type: 'start', container, pid, start: 1_700_000_000_000 + pid, startExact: true, image: 0, ts, args, executable: args[0], name: args[0].split('/').pop(), leader: leader(container) };
}
const end = (f: ProcessFact): ProcessFact => ({ ...f, type: 'end', exit: { code: 0 } });

describe('kernel exec flood: a per-container document budget that folds identical starts', () => {
  it('within the budget every fact is documented; over it identical starts fold into the first, with the count and the last time', () => {
    let now = 0;
    const flood = new ExecFlood({ rate: 10, burst: 4, maxKinds: 8 }, () => now);
    const facts = Array.from({ length: 20 }, (_, i) => start(A, 1000 + i, ['/bin/true', 'x']));
    const sent = facts.filter((f) => flood.admit(f));
    assert.equal(sent.length, 4, 'the burst is documented as it comes');
    const [w, ...rest] = flood.take();
    assert.equal(rest.length, 0);
    assert.equal(w.container, A);
    assert.equal(w.starts, 16);
    assert.equal(w.facts.length, 1, 'sixteen identical starts: one document');
    assert.deepEqual(w.facts[0].folded, { count: 16, last: facts[19].ts });
    assert.equal(w.facts[0].pid, facts[4].pid, 'the document is the first folded start');
    assert.deepEqual(flood.take(), [], 'a window is handed out once');

    // The bucket refills at the rate (10/s: two in 200 ms) and never beyond the burst.
    now += 200;
    assert.equal(Array.from({ length: 12 }, (_, i) => start(A, 2000 + i, ['/bin/true', 'x'])).filter((f) => flood.admit(f)).length, 2);
    now += 60_000;
    assert.equal(Array.from({ length: 12 }, (_, i) => start(A, 3000 + i, ['/bin/true', 'x'])).filter((f) => flood.admit(f)).length, 4);
  });

  it('ends of folded starts are counted, not documented; ends of documented starts still count against the budget', () => {
    const flood = new ExecFlood({ rate: 1, burst: 1, maxKinds: 8 }, () => 0);
    const kept = start(A, 1, ['/bin/sh']);
    const folded = start(A, 2, ['/bin/sh']);
    assert.equal(flood.admit(kept), true);
    assert.equal(flood.admit(folded), false);
    assert.equal(flood.admit(end(folded)), false);
    assert.equal(flood.admit(end(kept)), false, 'no tokens left: this end is counted');
    const [w] = flood.take();
    assert.equal(w.starts, 1);
    assert.equal(w.ends, 2);
  });

  it('distinct commands past maxKinds are dropped and counted; other containers keep their own budget', () => {
    const flood = new ExecFlood({ rate: 1, burst: 1, maxKinds: 3 }, () => 0);
    for (let i = 0; i < 10; i++) flood.admit(start(A, 10 + i, ['/bin/echo', String(i)]));
    assert.equal(flood.admit(start(B, 5, ['/bin/echo', 'b'])), true, 'B is not charged for A');
    const [w] = flood.take();
    assert.equal(w.facts.length, 3);
    assert.deepEqual(w.facts.map((f) => f.args![1]), ['1', '2', '3']);
    assert.equal(w.dropped, 6);
    assert.equal(w.starts, 9);
  });

  it('a /proc scan (first snapshot, resync) is never folded: it describes what already runs', () => {
    const flood = new ExecFlood({ rate: 1, burst: 1, maxKinds: 1 }, () => 0);
    const all = Array.from({ length: 5 }, (_, i) => ({ ...start(A, 30 + i, ['/bin/sleep', '9']), scan: 'first' as const }));
    assert.equal(all.filter((f) => flood.admit(f)).length, 5);
    assert.deepEqual(flood.take(), []);
  });

  it('rate 0 turns the budget off', () => {
    const flood = new ExecFlood({ rate: 0, burst: 1, maxKinds: 1 }, () => 0);
    assert.equal(Array.from({ length: 50 }, (_, i) => start(A, i + 1, ['/bin/true'])).filter((f) => flood.admit(f)).length, 50);
  });

  it('the folded document says how many starts it stands for, in the message and in dockward.process.folded', () => {
    const f: ProcessFact = { ...start(A, 7, ['/bin/true', 'x']), folded: { count: 42, last: 9_000_000n } };
    const env = processDocument(f, { index: 'logs-dockward.process-default', base: {}, meta: undefined, now: 0, wallMs: (ts) => Number(ts / 1_000_000n) });
    const doc = env.doc as { message: string; dockward: { process: { folded: { count: number; last: string } } } };
    assert.match(doc.message, /^process started 42 times \(folded: over the container's document budget\): \/bin\/true x/);
    assert.deepEqual(doc.dockward.process.folded, { count: 42, last: new Date(9).toISOString() });
  });

  it('a long command line costs the budget once more per 4 KiB: the burst admits fewer of them', () => {
    const now = 0;
    const flood = new ExecFlood({ rate: 10, burst: 12, maxKinds: 8 }, () => now);
    const long = Array.from({ length: 12 }, (_, i) => start(A, 2000 + i, ['/bin/true', 'x'.repeat(8190)]));
    const short = Array.from({ length: 12 }, (_, i) => start(B, 3000 + i, ['/bin/true', 'x']));
    assert.equal(long.filter((f) => flood.admit(f)).length, 4, '8 KiB command lines count three times: 12 tokens, 4 documents');
    assert.equal(short.filter((f) => flood.admit(f)).length, 12, 'short ones once, in their own container\'s bucket');
    const [w] = flood.take();
    assert.equal(w.container, A);
    assert.equal(w.starts, 8);
  });
});
