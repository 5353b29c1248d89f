import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import type Docker from 'dockerode';
import { DriftCollector, driftConfig } from '../../src/collect/drift';
import { ChangesParser, MAX_ENTRY_BYTES } from '../../src/collect/drift-changes';
import type { CollectorContext, TamperReport } from '../../src/collect/collector';
import type { ContainerMeta } from '../../src/enrich/metadata';
import type { Envelope } from '../../src/ship/envelope';

type Entry = { Path: string; Kind: number };
type Doc = { event: { type: string[]; action: string }; file?: { path: string }; dockward: { drift: Record<string, unknown> }; message: string };

/** The engine's answer to GET /containers/{id}/changes as a socket delivers it: 64 KiB chunks. */
function* body(entries: Iterable<Entry> | null): Generator<Buffer> {
  if (entries === null) return yield Buffer.from('null\n');
  let part = '[';
  let first = true;
  for (const e of entries) {
    part += (first ? '' : ',') + JSON.stringify(e);
    first = false;
    if (part.length >= 65536) {
      yield Buffer.from(part);
      part = '';
    }
  }
  yield Buffer.from(`${part}]\n`);
}

/** A large diff made as it is read: the test holds no 500k objects (their GC pauses are not dockward's). */
function* files(n: number, prefix: string, kind = 1): Generator<Entry> {
  for (let i = 0; i < n; i++) yield { Path: `${prefix}${i}`, Kind: kind };
}

const META: ContainerMeta = { id: 'a'.repeat(64), name: 'evil', image: 'x', imageId: 'y', labels: {}, hostname: 'h', tty: false, running: true, logDriver: 'json-file' };

class Harness {
  entries: Entry[] | null = [];
  /** When set, the diff is made anew from this at each scan instead of `entries`. */
  source: (() => Iterable<Entry>) | undefined;
  readonly docs: Doc[] = [];
  bytes = 0;
  readonly tamper: TamperReport[] = [];
  writable = true;
  private wake: (() => void) | undefined;
  readonly collector: DriftCollector;

  constructor(cfg: Record<string, unknown> = {}) {
    const h = this;
    const docker = { modem: { dial: (_o: object, cb: (e: unknown, r: Readable) => void) => cb(null, Readable.from(body(this.source ? this.source() : this.entries))) } } as unknown as Docker;
    const ctx = {
      namespace: 'default',
      telemetry: { event() {} },
      docker,
      output: {
        send: (e: Envelope) => {
          this.docs.push(e.doc as unknown as Doc);
          this.bytes += JSON.stringify(e.doc).length;
        },
        get writable() { return h.writable; },
        whenWritable: () => new Promise<void>((resolve) => (this.wake = resolve)),
      },
      tamper: (r: TamperReport) => this.tamper.push(r),
    } as unknown as CollectorContext;
    this.collector = new DriftCollector(ctx, driftConfig.parse({ schedule: '0 * * * * *', stagger: '0s', ignore_paths: ['/proc'], ...cfg }));
  }

  /** One scan; returns the documents it sent. */
  async scan(meta = META): Promise<Doc[]> {
    const from = this.docs.length;
    await (this.collector as unknown as { poll(m: ContainerMeta): Promise<void> }).poll(meta);
    return this.docs.slice(from);
  }

  state(id = META.id): { paths: Map<string, number>; rest?: { count: number } } | undefined {
    return (this.collector as unknown as { state: Map<string, { paths: Map<string, number>; rest?: { count: number } }> }).state.get(id);
  }

  release(): void {
    this.writable = true;
    this.wake?.();
  }
}

/**
 * The longest the event loop went without running a 1 ms timer while `work` ran, counting only
 * time the process spent on the CPU: on a shared, loaded machine the scheduler can stall the
 * timer without dockward doing anything, and that is not a long turn (the wall time is reported).
 */
async function longestTurn<T>(work: () => Promise<T>): Promise<{ result: T; ms: number; wallMs: number }> {
  let last = performance.now();
  let lastCpu = process.cpuUsage();
  let ms = 0;
  let wallMs = 0;
  const tick = () => {
    const now = performance.now();
    const cpu = process.cpuUsage(lastCpu);
    const wall = now - last;
    wallMs = Math.max(wallMs, wall);
    ms = Math.max(ms, Math.min(wall, (cpu.user + cpu.system) / 1000));
    last = now;
    lastCpu = process.cpuUsage();
  };
  const t = setInterval(tick, 1);
  try {
    const result = await work();
    tick();
    return { result, ms, wallMs };
  } finally {
    clearInterval(t);
  }
}

const types = (docs: Doc[]) => docs.map((d) => `${d.event.type[0]} ${d.file?.path ?? '(summary)'}`).sort();

describe('drift collector', () => {
  it('reports a small diff one by one: baseline, then only what changed, undone changes as their opposite', async () => {
    const h = new Harness();
    h.entries = [{ Path: '/etc/passwd', Kind: 0 }, { Path: '/tmp/x', Kind: 1 }, { Path: '/proc/1', Kind: 1 }];
    const first = await h.scan();
    assert.deepEqual(types(first), ['change /etc/passwd', 'creation /tmp/x']);
    assert.ok(first.every((d) => d.dockward.drift.baseline === true));
    assert.deepEqual(await h.scan(), [], 'nothing moved');
    h.entries = [{ Path: '/etc/passwd', Kind: 0 }, { Path: '/bin/vi', Kind: 2 }];
    const third = await h.scan();
    assert.deepEqual(types(third), ['deletion /bin/vi', 'deletion /tmp/x']);
    assert.ok(third.every((d) => d.dockward.drift.baseline === undefined));
    assert.deepEqual(h.tamper, []);
  });

  it('takes the engine\'s null (no changes) as an empty diff', async () => {
    const h = new Harness();
    h.entries = null;
    assert.deepEqual(await h.scan(), []);
    assert.equal(h.state()?.paths.size, 0);
  });

  it('500k changed paths: at most max_changes_per_scan + 1 documents, no long turn, a drift-bomb (was 500000 documents, 408 MiB, one 4.7 s turn)', async () => {
    // A first, smaller scan elsewhere compiles the code paths: V8's first pass through them is a
    // one-off turn of the process, not one the container's diff makes.
    const warm = new Harness();
    warm.source = () => files(20_000, '/w/');
    await warm.scan({ ...META, id: 'b'.repeat(64) });
    const h = new Harness();
    h.source = () => files(500_000, '/tmp/f/');
    const t0 = Date.now();
    const { result: docs, ms, wallMs } = await longestTurn(() => h.scan());
    const wall = Date.now() - t0;
    console.log(`500k paths: ${docs.length} documents, ${(h.bytes / 1024) | 0} KiB, ${wall} ms in all, longest turn ${ms.toFixed(1)} ms on the CPU (${wallMs.toFixed(1)} ms wall)`);
    assert.equal(docs.length, 1001);
    assert.ok(ms < 50, `an event-loop turn of ${ms.toFixed(1)} ms`);
    const summary = docs.filter((d) => d.dockward.drift.summary);
    assert.equal(summary.length, 1);
    assert.deepEqual(
      { count: summary[0].dockward.drift.count, total: summary[0].dockward.drift.total, kinds: summary[0].dockward.drift.kinds, baseline: summary[0].dockward.drift.baseline },
      { count: 499_000, total: 500_000, kinds: { creation: 499_000, change: 0, deletion: 0 }, baseline: true },
    );
    assert.equal((summary[0].dockward.drift.sample as string[]).length, 20);
    assert.equal(summary[0].event.action, 'file_drift_summary');
    assert.equal(h.tamper.length, 1);
    assert.equal(h.tamper[0].kind, 'drift-bomb');
    assert.equal(h.tamper[0].container, META.id);
    assert.match(h.tamper[0].detail, /^500000 changed paths in one scan, 499000 past max_changes_per_scan 1000/);
    assert.ok(h.state()!.paths.size <= 1000, 'remembered paths are bounded');

    // The same diff a minute later: nothing to say.
    assert.deepEqual(await h.scan(), []);
    // One more file among the folded ones: one summary, not another flood.
    h.source = function* () {
      yield* files(500_000, '/tmp/f/');
      yield { Path: '/tmp/g', Kind: 1 };
    };
    const moved = await h.scan();
    assert.equal(moved.length, 1);
    assert.equal(moved[0].dockward.drift.previous, 499_000);
    assert.equal(moved[0].dockward.drift.count, 499_001);
    // Deleting the files again (was another 500k documents): the remembered ones one by one, one summary.
    h.source = undefined;
    h.entries = [];
    const { result: gone, ms: goneMs } = await longestTurn(() => h.scan());
    assert.equal(gone.length, 1001);
    assert.ok(goneMs < 50, `an event-loop turn of ${goneMs.toFixed(1)} ms`);
    assert.equal(gone.filter((d) => d.event.type[0] === 'deletion').length, 1000);
    assert.equal(gone.filter((d) => d.dockward.drift.summary)[0].dockward.drift.count, 0);
    assert.equal(h.state()!.rest, undefined);
    assert.equal(h.tamper.length, 2, 'the flood growing was reported; its end is not a bomb');
  });

  it('a restart sends a bounded baseline, not the whole diff again', async () => {
    const entries = Array.from({ length: 20_000 }, (_, i) => ({ Path: `/data/${i}`, Kind: 1 }));
    const h = new Harness({ max_changes_per_scan: 100 });
    h.entries = entries;
    assert.equal((await h.scan()).length, 101);
    const again = new Harness({ max_changes_per_scan: 100 });
    again.entries = entries;
    assert.equal((await again.scan()).length, 101);
  });

  it('fills free slots with new paths while the diff stays within the bound, and folds the rest', async () => {
    const h = new Harness({ max_changes_per_scan: 10 });
    h.entries = Array.from({ length: 8 }, (_, i) => ({ Path: `/a/${i}`, Kind: 1 }));
    assert.equal((await h.scan()).length, 8);
    h.entries = [...h.entries, ...Array.from({ length: 5 }, (_, i) => ({ Path: `/b/${i}`, Kind: 1 }))];
    const docs = await h.scan();
    assert.deepEqual(types(docs), ['creation /b/0', 'creation /b/1', 'info (summary)']);
    assert.equal(docs.find((d) => d.dockward.drift.summary)!.dockward.drift.count, 3);
    assert.equal(h.state()!.paths.size, 10);
    // Once the folded paths fit again they are remembered one by one; unchanged, they need no document.
    h.entries = h.entries.filter((e) => !e.Path.startsWith('/a/'));
    const back = await h.scan();
    assert.equal(back.length, 8);
    assert.ok(back.every((d) => d.event.type[0] === 'deletion'));
    assert.equal(h.state()!.paths.size, 5);
    assert.equal(h.state()!.rest, undefined);
    h.entries = h.entries.filter((e) => e.Path !== '/b/4');
    assert.deepEqual(types(await h.scan()), ['deletion /b/4']);
  });

  it('waits while the output is not writable', async () => {
    const h = new Harness({ max_changes_per_scan: 10 });
    h.entries = Array.from({ length: 5 }, (_, i) => ({ Path: `/w/${i}`, Kind: 1 }));
    h.writable = false;
    const scan = h.scan();
    let done = false;
    void scan.then(() => (done = true));
    // The scan reads the diff, then stops at the first document until the queue has room.
    for (let i = 0; i < 50 && !done; i++) await new Promise((r) => setImmediate(r));
    assert.equal(done, false);
    assert.equal(h.docs.length, 0);
    h.release();
    assert.equal((await scan).length, 5);
  });

  it('reports a container\'s label bomb once', async () => {
    const h = new Harness();
    const meta = { ...META, labels: Object.fromEntries(Array.from({ length: 500 }, (_, i) => [`l${i}`, 'v'])) };
    h.entries = [{ Path: '/x', Kind: 1 }];
    const [doc] = await h.scan(meta);
    await h.scan(meta);
    assert.deepEqual(h.tamper.map((t) => t.kind), ['label-bomb']);
    assert.equal((doc as unknown as { container: { labels_truncated: number } }).container.labels_truncated, 372);
  });
});

describe('reading the diff as a stream', () => {
  const entries: Entry[] = [
    { Path: '/tmp/a "quoted" \\ back', Kind: 1 },
    { Path: '/tmp/é😀/{[x]}', Kind: 0 },
    { Path: '/tmp/\u2028<tag>&', Kind: 2 },
  ];
  const text = Buffer.from(` ${JSON.stringify(entries)}\n`);

  it('gives the same entries however the body is split', () => {
    for (let cut = 0; cut <= text.length; cut++) {
      const p = new ChangesParser('c');
      const got = [...p.push(text.subarray(0, cut)).changes, ...p.push(text.subarray(cut)).changes];
      p.end();
      assert.deepEqual(got, entries.map((e) => ({ path: e.Path, kind: e.Kind })), `cut at ${cut}`);
    }
    const p = new ChangesParser('c');
    const one = [...text].flatMap((b) => p.push(Buffer.from([b])).changes);
    p.end();
    assert.equal(one.length, 3);
  });

  it('counts an entry longer than it reads, and reads on after it', () => {
    const huge = JSON.stringify([{ Path: 'x'.repeat(MAX_ENTRY_BYTES * 2), Kind: 1 }, { Path: '/ok', Kind: 1 }]);
    const p = new ChangesParser('c');
    let skipped = 0;
    const got = [];
    for (let i = 0; i < huge.length; i += 10_000) {
      const b = p.push(Buffer.from(huge.slice(i, i + 10_000)));
      skipped += b.skipped;
      got.push(...b.changes);
    }
    p.end();
    assert.equal(skipped, 1);
    assert.deepEqual(got, [{ path: '/ok', kind: 1 }]);
  });

  it('names an answer that is not a list, or a list cut short', () => {
    const bad = new ChangesParser('c'.repeat(64));
    bad.push(Buffer.from('{"message":"boom"}'));
    assert.throws(() => bad.end(), /unexpected answer to GET \/containers\/cccccccccccc\/changes/);
    const short = new ChangesParser('c');
    short.push(Buffer.from('[{"Path":"/a","Kind":1},'));
    assert.throws(() => short.end(), /the list ends early/);
  });
});
