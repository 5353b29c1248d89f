import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import winston from 'winston';
import { ContainerModel, modelConfig, type ModelState } from '../../src/anomaly/model';
import { modelStateProblem } from '../../src/anomaly/model-state';
import type { Vector } from '../../src/anomaly/signals';
import { ModelStore, type LiveModel } from '../../src/anomaly/store';
import { Telemetry } from '../../src/telemetry/telemetry';

const quiet = () => new Telemetry(winston.createLogger({ silent: true }));
const cfg = modelConfig.parse({ warmup: 20 });
const pattern = (i: number): Vector => ({ cpu: 5 + 3 * Math.sin(i / 8), memory: 100 + (i % 5), process_starts: i % 3, log_lines: 30 + (i % 7) * 2 });

/** A model as a real run saves it: trained, then through JSON. */
function trained(n = 150): ModelState {
  const m = new ContainerModel(cfg);
  for (let i = 0; i < n; i++) m.update(pattern(i));
  return JSON.parse(JSON.stringify(m.snapshot())) as ModelState;
}

function storeWith(content: unknown): { store: ModelStore; t: Telemetry; dir: string } {
  const dir = mkdtempSync(join(tmpdir(), 'models-'));
  writeFileSync(join(dir, 'anomaly-models.json'), typeof content === 'string' ? content : JSON.stringify(content));
  const t = quiet();
  return { store: new ModelStore(dir, t), t, dir };
}

const live = (id: string, image: string, model: ModelState, calm: boolean): LiveModel => ({ id, image, samples: model.samples, calm, snapshot: () => model });

const count = async (t: Telemetry, name: string) => (await t.snapshot())[`dockward_events_total{event=${name}}`] ?? 0;

describe('anomaly baselines on disk are untrusted input', () => {
  it('a real saved model passes the check and is restored', () => {
    const state = trained();
    const t0 = process.hrtime.bigint();
    assert.equal(modelStateProblem(JSON.parse(JSON.stringify(state))), undefined);
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    assert.ok(ms < 500, `checking one model took ${ms.toFixed(1)} ms`);
    const { store } = storeWith({ version: 1, containers: { c1: { image: 'nginx', model: state } }, images: { nginx: state } });
    assert.deepEqual(store.load(), { containers: 1, images: 1 });
    const found = store.lookup('c1', 'nginx');
    assert.equal(found?.from, 'container');
    const m = new ContainerModel(cfg, found!.model);
    assert.equal(m.sampleCount, 150);
    assert.equal(m.warm, true);
  });

  it('the review\'s case: {"v":2} without "signals" builds a fresh model instead of throwing', () => {
    // before: TypeError in the constructor, thrown from output.send for the container's next document
    const m = new ContainerModel({ ...cfg, warmup: 10 }, { v: 2, samples: 5 } as unknown as ModelState);
    assert.equal(m.sampleCount, 0);
    assert.doesNotThrow(() => m.update(pattern(0)));
  });

  const damaged: Array<[string, (s: ModelState) => unknown]> = [
    ['{"v":2} without signals', () => ({ v: 2, samples: 5 })],
    ['empty core and level', (s) => ({ ...s, signals: { cpu: { core: {}, level: {} } } })],
    ['a level with a string mean', (s) => ({ ...s, signals: { ...s.signals, cpu: { ...s.signals.cpu!, level: { mean: 'x', variance: 0, n: 1 } } } })],
    ['a context pointing past the tables', (s) => { s.signals.cpu!.core.parts[0].cad.cad.contexts[0][2] = 99_999; return s; }],
    // CAD indexes context facts by id: this one would size an index of 2^31 entries (8 GiB)
    ['a fact naming a context far past any table', (s) => { s.signals.cpu!.core.parts[0].cad.cad.right[0] = [2 ** 32 - 1]; return s; }],
    ['two left semi-contexts with the same facts', (s) => { const l = s.signals.cpu!.core.parts[0].cad.cad.left; l.push(l[0]); return s; }],
    ['a likelihood with sd 0', (s) => { s.signals.cpu!.core.parts[0].likelihood.sd = 0; return s; }],
    ['a number instead of a model', () => 42],
    ['an older version', (s) => ({ ...s, v: 1 })],
  ];
  for (const [what, damage] of damaged) {
    it(`a model with ${what} is dropped when looked up: counted, said once, its container warms up afresh`, async () => {
      const { store, t } = storeWith({ version: 1, containers: { c1: { image: 'nginx', model: damage(trained()) }, c2: { image: 'redis', model: damage(trained()) } }, images: {} });
      store.load();
      assert.equal(store.lookup('c1', 'nginx'), undefined);
      assert.equal(store.lookup('c2', 'redis'), undefined);
      assert.equal(store.droppedModels, 2);
      assert.equal(await count(t, 'anomaly.model.dropped'), 2, 'both counted');
      // a fresh model takes the container's documents without a TypeError
      assert.doesNotThrow(() => new ContainerModel(cfg, undefined).update(pattern(0)));
    });
  }

  it('a damaged container model falls back to its image\'s whole one', () => {
    const { store } = storeWith({ version: 1, containers: { c1: { image: 'nginx', model: { v: 2 } } }, images: { nginx: trained() } });
    store.load();
    assert.equal(store.lookup('c1', 'nginx')?.from, 'image');
  });

  for (const [what, text] of [
    ['not JSON', '{"version":1,'],
    ['an array', '[]'],
    ['version 2', '{"version":2,"containers":{},"images":{}}'],
    ['containers as an array', '{"version":1,"containers":[],"images":{}}'],
    ['a container without its image', '{"version":1,"containers":{"c1":{"model":{}}},"images":{}}'],
    ['null', 'null'],
  ] as const) {
    it(`anomaly-models.json ${what}: moved aside, said once with its path, no baselines`, async () => {
      const { store, t, dir } = storeWith(text);
      const r = store.load();
      assert.equal(r.containers, 0);
      const aside = readdirSync(dir).filter((n) => n.startsWith('anomaly-models.json.corrupt-'));
      assert.equal(aside.length, 1);
      assert.equal(r.quarantined, join(dir, aside[0]));
      assert.equal(await count(t, 'anomaly.models.quarantined'), 1);
      assert.ok(t.health.list()[0].reason.includes(join(dir, aside[0])));
      await store.save([live('c1', 'nginx', trained(30), true)]); // and the next save writes good files
      const again = new ModelStore(dir, quiet());
      assert.deepEqual(again.load(), { containers: 1, images: 1 });
    });
  }

  it('image names are keys, never properties: "constructor" or "__proto__" find nothing and save as they are', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'models-'));
    const store = new ModelStore(dir, quiet());
    store.load();
    assert.equal(store.lookup('c1', 'constructor'), undefined);
    assert.equal(store.lookup('c1', 'toString'), undefined);
    await store.save([live('c1', '__proto__', trained(30), true)]);
    const again = new ModelStore(dir, quiet());
    assert.deepEqual(again.load(), { containers: 1, images: 1 });
    assert.equal(again.lookup('c9', '__proto__')?.from, 'image');
  });
});

describe('anomaly baselines between saves', () => {
  it('the store keeps no copy of a live model: neither the one it restored nor the one it saved', async () => {
    const { setFlagsFromString } = await import('node:v8');
    const { runInNewContext } = await import('node:vm');
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const { store, dir } = storeWith({ version: 1, containers: { c1: { image: 'nginx', model: trained() }, c2: { image: 'redis', model: trained(40) } } });
    store.load();
    let taken: ModelState | undefined = store.lookup('c1', 'nginx')!.model;
    const takenRef = new WeakRef(taken);
    taken = undefined;
    let snapshot: ModelState | undefined = trained(160);
    const savedRef = new WeakRef(snapshot);
    // not calm: it must not become the image's baseline
    await store.save([live('c1', 'nginx', snapshot, false)]);
    snapshot = undefined;
    await new Promise((r) => setImmediate(r));
    gc();
    assert.equal(takenRef.deref(), undefined, 'the restored model is still held');
    assert.equal(savedRef.deref(), undefined, 'the saved snapshot is still held');
    const again = new ModelStore(dir, quiet());
    assert.deepEqual(again.load(), { containers: 2, images: 0 });
    assert.equal(again.lookup('c1', 'nginx')?.model.samples, 160);
    assert.equal(again.lookup('c2', 'redis')?.model.samples, 40);
  });

  it('one file per model, migrated from the single file, and rewritten only when its model learned', async () => {
    const { store, dir } = storeWith({ version: 1, containers: { c1: { image: 'nginx', model: trained(50) } }, images: { nginx: trained(50) } });
    assert.deepEqual(store.load(), { containers: 1, images: 1 });
    assert.deepEqual(readdirSync(dir), ['anomaly-models'], 'the single file is gone once migrated');
    const files = readdirSync(join(dir, 'anomaly-models')).sort();
    assert.equal(files.length, 2);
    let snapshots = 0;
    const model = trained(60);
    const c = { ...live('c1', 'nginx', model, false), snapshot: () => (snapshots++, model) };
    assert.equal(await store.save([c]), 1);
    assert.equal(await store.save([c]), 0, 'nothing learned since: nothing written');
    assert.equal(snapshots, 1, 'an unchanged model is not even snapshot');
    assert.equal(await store.save([{ ...c, samples: 61 }]), 1);
    // a calm container with more samples than the image's baseline becomes it
    assert.equal(await store.save([{ ...c, samples: 62, calm: true }]), 1);
    assert.equal(new ModelStore(dir, quiet()).lookup('c9', 'nginx'), undefined, 'looked up before load: nothing listed');
    const again = new ModelStore(dir, quiet());
    again.load();
    assert.equal(again.lookup('c9', 'nginx')?.from, 'image');
    assert.ok(again.savedAt('c1')! > 0);
    // destroyed while a save waits for its turn: its file is not written again
    assert.equal(await again.save([{ ...c, samples: 70, live: () => false }]), 0);
    again.forget('c1');
    assert.equal(again.lookup('c1', 'other'), undefined);
    assert.equal(readdirSync(join(dir, 'anomaly-models')).length, 1, 'the forgotten container\'s file is removed, its image\'s stays');
  });

  it('a damaged model file is moved aside and only its container warms up afresh', async () => {
    const { store, dir, t } = storeWith({ version: 1, containers: { c1: { image: 'nginx', model: trained(50) }, c2: { image: 'nginx', model: trained(50) } } });
    store.load();
    const models = join(dir, 'anomaly-models');
    const [first] = readdirSync(models).sort();
    writeFileSync(join(models, first), '{"version":1,"image":"nginx","model":');
    const fresh = new ModelStore(dir, t);
    fresh.load();
    const found = ['c1', 'c2'].map((id) => fresh.lookup(id, 'nginx')?.from);
    assert.deepEqual(found.filter(Boolean), ['container']);
    assert.equal(fresh.droppedModels, 1);
    assert.equal(readdirSync(models).filter((n) => n.includes('.corrupt-')).length, 1);
    assert.equal(await count(t, 'anomaly.model.dropped'), 1);
  });

  it('a file where the directory should be: no baselines, said, /health degraded, nothing thrown', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'models-'));
    writeFileSync(join(dir, 'anomaly-models'), 'not a directory');
    const t = quiet();
    const store = new ModelStore(dir, t);
    assert.deepEqual(store.load(), { containers: 0, images: 0 });
    assert.equal(await count(t, 'anomaly.models.unreadable'), 1);
    assert.ok(t.health.list()[0].reason.includes(join(dir, 'anomaly-models')));
    await assert.rejects(store.save([live('c1', 'x', trained(20), false)]));
  });
});
